import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { createKilnClient, KilnApiError, type KilnClient } from '@kiln/client';

export { KilnApiError, type KilnClient };

const ClientContext = createContext<KilnClient | null>(null);

/**
 * The one `@kiln/client` the dashboard talks through, built with the tab's API key and built
 * again when the key changes. `baseUrl: ''`: the dashboard is served by the API's own origin.
 */
export function KilnClientProvider({ apiKey, children }: { apiKey: string | null; children: ReactNode }) {
  const client = useMemo(() => createKilnClient({ baseUrl: '', apiKey: apiKey ?? undefined }), [apiKey]);
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useKiln(): KilnClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useKiln() is used outside <KilnClientProvider>.');
  return client;
}

export const isUnauthorized = (err: unknown) => err instanceof KilnApiError && err.status === 401;
export const isNotFound = (err: unknown) => err instanceof KilnApiError && err.status === 404;

/** One entry of a `validation_failed` answer's `details`. */
export interface FieldProblem {
  path: (string | number)[];
  message: string;
  limit?: number;
  actual?: number;
}

/** The field-level problems a validation error names (none for any other error). */
export function fieldProblems(err: unknown): FieldProblem[] {
  if (!(err instanceof KilnApiError) || !Array.isArray(err.details)) return [];
  return err.details.filter(
    (d): d is FieldProblem => typeof d === 'object' && d !== null && Array.isArray((d as FieldProblem).path) && typeof (d as FieldProblem).message === 'string',
  );
}
