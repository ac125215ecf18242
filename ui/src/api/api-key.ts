/**
 * The API key the dashboard sends as `Authorization: Bearer …`. Only needed when the server runs
 * in `authenticated` mode; it stays in this browser's localStorage and is sent to this origin only.
 */
const STORAGE_KEY = 'kiln.apiKey';

export function readApiKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY) || null;
  } catch {
    return null; // storage disabled: the dashboard still works in local_trusted mode
  }
}

export function writeApiKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(STORAGE_KEY, key);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage disabled */
  }
}

export function authHeaders(): Record<string, string> {
  const key = readApiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}
