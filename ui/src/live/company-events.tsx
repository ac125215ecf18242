import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { streamCompanyEvents, type CompanySnapshot, type LiveEvent } from '../api/kiln-api.js';
import type { StreamState } from '../api/sse.js';

export type CompanyMessage = { kind: 'snapshot'; snapshot: CompanySnapshot } | { kind: 'event'; event: LiveEvent };
type Listener = (m: CompanyMessage) => void;

interface CompanyEvents {
  state: StreamState;
  error: unknown;
  subscribe(listener: Listener): () => void;
}

const Context = createContext<CompanyEvents>({ state: 'closed', error: null, subscribe: () => () => {} });

/**
 * One company stream for the whole app (not one per page), so switching pages neither reconnects
 * nor misses events; pages subscribe to what they show. A snapshot arrives on every (re)connect.
 */
export function CompanyEventsProvider({ companyId, apiKey, children }: { companyId: string | null; apiKey: string | null; children: ReactNode }) {
  const listeners = useRef(new Set<Listener>());
  const [state, setState] = useState<StreamState>('closed');
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!companyId) return;
    const publish = (m: CompanyMessage) => listeners.current.forEach((l) => l(m));
    const stream = streamCompanyEvents(companyId, {
      onSnapshot: (snapshot) => publish({ kind: 'snapshot', snapshot }),
      onEvent: (event) => publish({ kind: 'event', event }),
      onState: (s, err) => {
        setState(s);
        setError(err ?? null);
      },
    });
    return () => {
      stream.close();
      setState('closed');
    };
  }, [companyId, apiKey]);

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
