import { KilnApiError } from '../api/kiln-client.js';

export function ErrorNote({ error }: { error: unknown }) {
  const text = error instanceof KilnApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
  return (
    <p className="error-note" role="alert">
      {text}
    </p>
  );
}
