import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { RendererView } from '../api/job-view.js';
import { fieldProblems, KilnApiError, useKiln } from '../api/kiln-client.js';
import { navigate, routeHref, useRoute } from '../routing.js';
import { SchemaForm } from '../schema-form/schema-form.js';
import { pathKey, type JsonSchema, type Path } from '../schema-form/json-schema.js';
import { ErrorNote } from '../components/error-note.js';
import type { PageProps } from '../app.js';

type Mode = 'form' | 'json';

/**
 * "New job": pick a kind, edit its input in a form generated from the renderer's JSON Schema
 * (prefilled with its example, or with an earlier job's input via `?from=<jobId>`), submit.
 * The server validates; its messages land next to the fields they name.
 */
export function NewJobPage({ companyId, renderers }: PageProps) {
  const client = useKiln();
  const route = useRoute();
  const kinds = renderers ?? [];
  const kind = route.query.get('kind') && kinds.some((r) => r.kind === route.query.get('kind')) ? route.query.get('kind')! : (kinds[0]?.kind ?? '');
  const from = route.query.get('from');
  const renderer = kinds.find((r) => r.kind === kind);

  const [input, setInput] = useState<unknown>(undefined);
  const [sourceTaskId, setSourceTaskId] = useState('');
  const [priority, setPriority] = useState('');
  const [mode, setMode] = useState<Mode>('form');
  const [jsonText, setJsonText] = useState('');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Map<string, string[]>>(new Map());
  const [failure, setFailure] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);
  const invalidJson = useRef(new Set<string>());
  const [invalidCount, setInvalidCount] = useState(0);

  /** Shows `value` in both editors (whichever is open). */
  const load = useCallback((value: unknown) => {
    setInput(structuredClone(value));
    setJsonText(JSON.stringify(value, null, 2));
    setJsonError(null);
  }, []);

  // A new kind (or "run again"): start from the example, or from the earlier job's input.
  useEffect(() => {
    if (!renderer) return;
    setErrors(new Map());
    setFailure(null);
    if (!from) return load(renderer.example);
    const abort = new AbortController();
    client.getJob(companyId, from, { signal: abort.signal }).then(
      (job) => {
        load(job.input);
        if (job.sourceTaskId) setSourceTaskId(job.sourceTaskId);
      },
      () => !abort.signal.aborted && load(renderer.example),
    );
    return () => abort.abort();
  }, [client, renderer, from, companyId, load]);

  const touch = useCallback((path: Path) => {
    const key = pathKey(path);
    setErrors((current) => {
      if (![...current.keys()].some((k) => k === key || k.startsWith(`${key}.`))) return current;
      return new Map([...current].filter(([k]) => k !== key && !k.startsWith(`${key}.`)));
    });
  }, []);

  const onInvalid = useCallback((path: Path, invalid: boolean) => {
    const set = invalidJson.current;
    if (invalid) set.add(pathKey(path));
    else set.delete(pathKey(path));
    setInvalidCount(set.size);
  }, []);

  const switchMode = (next: Mode) => {
    if (next === mode) return;
    if (next === 'json') {
      setJsonText(JSON.stringify(input, null, 2));
      setJsonError(null);
    } else {
      try {
        setInput(JSON.parse(jsonText));
      } catch (err) {
        setJsonError(`Fix the JSON before switching back: ${(err as Error).message}`);
        return;
      }
    }
    setMode(next);
  };

  const resetToExample = () => {
    if (!renderer) return;
    setErrors(new Map());
    setFailure(null);
    load(renderer.example);
    if (from) navigate(routeHref('new', { kind }), { replace: true });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let body = input;
    if (mode === 'json') {
      try {
        body = JSON.parse(jsonText);
      } catch (err) {
        setJsonError((err as Error).message);
        return;
      }
    }
    if (invalidJson.current.size > 0) return;
    setSubmitting(true);
    setFailure(null);
    setErrors(new Map());
    try {
      const trimmedTask = sourceTaskId.trim();
      const created = await client.createJob(companyId, {
        kind,
        input: body,
        ...(trimmedTask ? { sourceTaskId: trimmedTask } : {}),
        ...(priority.trim() !== '' ? { priority: Number(priority) } : {}),
      });
      navigate(routeHref('jobs', { created: created.jobId }));
    } catch (err) {
      const problems = fieldProblems(err);
      if (problems.length > 0) {
        const byPath = new Map<string, string[]>();
        for (const d of problems) {
          const key = pathKey(d.path);
          byPath.set(key, [...(byPath.get(key) ?? []), d.message]);
        }
        setErrors(byPath);
      }
      setFailure(err);
    } finally {
      setSubmitting(false);
    }
  };

  if (!renderers) return <p className="muted">Loading renderers…</p>;
  if (!renderer) return <p className="empty">This server has no renderers.</p>;
  const topErrors = (key: string) => errors.get(key)?.map((m, i) => <div key={i} className="field-error">{m}</div>);

  return (
    <section className="new-job">
      <div className="page-head">
        <h1>New job</h1>
      </div>
      <form onSubmit={submit} noValidate className="panel">
        <div className="field-grid">
          <div className="field" data-path="kind">
            <label htmlFor="job-kind">Kind</label>
            <select id="job-kind" name="kind" value={kind} onChange={(e) => navigate(routeHref('new', { kind: e.target.value }), { replace: true })}>
              {kinds.map((r: RendererView) => (
                <option key={r.kind} value={r.kind}>
                  {r.kind}
                </option>
              ))}
            </select>
            {topErrors('kind')}
          </div>
          <div className="field" data-path="sourceTaskId">
            <label htmlFor="job-task">Task id</label>
            <input id="job-task" name="sourceTaskId" value={sourceTaskId} placeholder="optional: links the job to a task" onChange={(e) => setSourceTaskId(e.target.value)} />
            {topErrors('sourceTaskId')}
          </div>
          <div className="field" data-path="priority">
            <label htmlFor="job-priority">Priority</label>
            <input id="job-priority" name="priority" type="number" step={1} value={priority} placeholder="0 (higher runs first)" onChange={(e) => setPriority(e.target.value)} />
            {topErrors('priority')}
          </div>
        </div>
        <p className="muted renderer-description">{renderer.description}</p>

        <div className="input-head">
          <h2>Input</h2>
          <div className="segmented" role="tablist">
            <button type="button" role="tab" aria-selected={mode === 'form'} className={mode === 'form' ? 'active' : ''} onClick={() => switchMode('form')}>
              Form
            </button>
            <button type="button" role="tab" aria-selected={mode === 'json'} className={mode === 'json' ? 'active' : ''} onClick={() => switchMode('json')}>
              JSON
            </button>
          </div>
          <button type="button" className="link-button" onClick={resetToExample}>
            Reset to example
          </button>
        </div>

        {failure ? <FailureSummary error={failure} /> : null}

        {mode === 'form' && input !== undefined && (
          <SchemaForm
            key={kind}
            schema={renderer.inputSchema as JsonSchema}
            value={input}
            onChange={setInput}
            path={['input']}
            errors={errors}
            onTouch={touch}
            onInvalid={onInvalid}
          />
        )}
        {mode === 'json' && (
          <div className="field" data-path="input">
            <textarea className="json-editor" name="input" spellCheck={false} rows={24} value={jsonText} onChange={(e) => setJsonText(e.target.value)} />
            {jsonError && <div className="field-error">Invalid JSON: {jsonError}</div>}
            {[...errors].map(([k, ms]) =>
              ms.map((m, i) => (
                <div key={`${k}-${i}`} className="field-error">
                  <code>{k}</code>: {m}
                </div>
              )),
            )}
          </div>
        )}

        <div className="form-actions">
          <button type="submit" className="primary" disabled={submitting || invalidCount > 0}>
            {submitting ? 'Submitting…' : 'Submit job'}
          </button>
          {invalidCount > 0 && <span className="field-error">Fix the JSON fields marked above first.</span>}
        </div>
      </form>
    </section>
  );
}

function FailureSummary({ error }: { error: unknown }) {
  const problems = fieldProblems(error);
  if (!(error instanceof KilnApiError) || problems.length === 0) return <ErrorNote error={error} />;
  return (
    <div className="error-note" role="alert" data-error-code={error.code}>
      <strong>{error.message}</strong> The server found {problems.length} problem{problems.length === 1 ? '' : 's'}:
      <ul>
        {problems.map((d, i) => (
          <li key={i}>
            <code>{d.path.join('.') || '(body)'}</code>: {d.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
