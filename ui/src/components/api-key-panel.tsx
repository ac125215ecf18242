import { useState, type FormEvent } from 'react';

/**
 * Where the user pastes an API key for a server in `authenticated` mode. The key is kept in this
 * tab's sessionStorage (gone when the tab closes) and sent as a Bearer token with every API call and event stream.
 */
export function ApiKeyPanel({ current, required, onSave }: { current: string | null; required: boolean; onSave(key: string | null): void }) {
  const [draft, setDraft] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (draft.trim()) onSave(draft.trim());
    setDraft('');
  };
  return (
    <section className="panel api-key-panel">
      <h2>API key</h2>
      <p className="muted">
        {required
          ? 'This server requires an API key. Paste one to continue; it stays in this tab only (sessionStorage).'
          : 'Only needed when the server runs in authenticated mode. The key stays in this tab only (sessionStorage).'}
      </p>
      <form onSubmit={submit} className="inline-form">
        <input
          type="password"
          name="apiKey"
          autoComplete="off"
          placeholder={current ? 'A key is saved — paste another to replace it' : 'kiln_…'}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit" className="primary" disabled={!draft.trim()}>
          Save key
        </button>
        {current && (
          <button type="button" onClick={() => onSave(null)}>
            Forget key
          </button>
        )}
      </form>
    </section>
  );
}
