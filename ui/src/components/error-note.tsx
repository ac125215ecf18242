import { ApiError } from '../api/http.js';

export function ErrorNote({ error }: { error: unknown }) {
  const text = error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
  return (
    <p className="error-note" role="alert">
      {text}
    </p>
  );
}
