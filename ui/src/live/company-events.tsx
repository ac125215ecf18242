import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { CompanyStreamItem } from '@kiln/client';
import { useKiln } from '../api/kiln-client.js';
import { followStream, type StreamState } from './follow-stream.js';

/** The company stream's items: a snapshot (active jobs) when it (re)opens, then every event. */
export type CompanyMessage = CompanyStreamItem;
type Listener = (m: CompanyMessage) => void;

interface CompanyEvents {
  state: StreamState;
  error: unknown;
  subscribe(listener: Listener): () => void;
}

const Context = createContext<CompanyEvents>({ state: 'closed', error: null, subscribe: () => () => {} });

/**
 * One company stream for the whole app (not one per page), so switching pages neither reconnects
 * nor misses events; pages subscribe to what they show. It follows the client (re-created when
 * the API key changes) and the chosen company.
 */
export function CompanyEventsProvider({ companyId, children }: { companyId: string | null; children: ReactNode }) {
  const client = useKiln();
  const listeners = useRef(new Set<Listener>());
  const [state, setState] = useState<StreamState>('closed');
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!companyId) return;
    const abort = new AbortController();
    void followStream({
      open: (lastEventId, signal) => client.companyEvents(companyId, { lastEventId, signal }),
      onItem: (m) => listeners.current.forEach((l) => l(m)),
      onState: (s, err) => {
        setState(s);
        setError(err ?? null);
      },
      reopenAfterEnd: true,
      signal: abort.signal,
    });
    return () => {
      abort.abort();
      setState('closed');
    };
  }, [client, companyId]);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const value = useMemo(() => ({ state, error, subscribe }), [state, error, subscribe]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export const useCompanyEvents = () => useContext(Context);

/** Calls `listener` for every message of the company stream while the component is mounted. */
export function useCompanyListener(listener: Listener): void {
  const { subscribe } = useCompanyEvents();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => subscribe((m) => latest.current(m)), [subscribe]);
}
