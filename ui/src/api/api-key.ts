/**
 * The API key the dashboard sends as `Authorization: Bearer …`. Only needed when the server runs
 * in `authenticated` mode. It is kept in sessionStorage — this tab only, gone when the tab is
 * closed, so a key pasted once does not sit on disk for every later visitor — and is sent to this
 * origin only.
 */
const STORAGE_KEY = 'kiln.apiKey';

export function readApiKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null; // storage disabled: the dashboard still works in local_trusted mode
  }
}

export function writeApiKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(STORAGE_KEY, key);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage disabled */
  }
}
