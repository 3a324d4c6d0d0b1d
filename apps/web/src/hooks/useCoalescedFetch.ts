/**
 * Fetches `load()` whenever `key` or `trigger` changes, with at most one request in flight:
 * triggers that arrive meanwhile collapse into a single follow-up request. A key change aborts
 * the request in flight. Data of the previous key stays available (with `dataKey`) until the
 * new one arrives, and the last good data survives a failed refresh.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/client';

export interface FetchState<T> {
  data: T | null;
  /** The key `data` belongs to. */
  dataKey: string | null;
  error: string | null;
  loading: boolean;
}

interface Control {
  key: string | null;
  inFlight: AbortController | null;
  pending: boolean;
  disposed: boolean;
}

export function useCoalescedFetch<T>(
  key: string | null,
  load: (signal: AbortSignal) => Promise<T>,
  trigger: number,
): FetchState<T> {
  const [state, setState] = useState<FetchState<T>>({ data: null, dataKey: null, error: null, loading: false });
  const loadRef = useRef(load);
  const ctrl = useRef<Control>({ key: null, inFlight: null, pending: false, disposed: false });

  // Declared first so it runs before the fetch effect below: the latest closure is used.
  useEffect(() => {
    loadRef.current = load;
  });

  const run = useCallback(() => {
    const c = ctrl.current;
    if (c.disposed || c.key === null) return;
    if (c.inFlight) {
      c.pending = true;
      return;
    }
    const k = c.key;
    const ac = new AbortController();
    c.inFlight = ac;
    c.pending = false;
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    loadRef.current(ac.signal)
      .then(
        (data) => {
          if (!ac.signal.aborted && k === c.key) setState({ data, dataKey: k, error: null, loading: false });
        },
        (err: unknown) => {
          if (!ac.signal.aborted && k === c.key) {
            setState((s) => ({ ...s, error: errorMessage(err), loading: false }));
          }
        },
      )
      .finally(() => {
        if (c.inFlight === ac) c.inFlight = null;
        if (c.pending && !c.disposed) run();
      });
  }, []);

  useEffect(() => {
    const c = ctrl.current;
    c.disposed = false;
    return () => {
      c.disposed = true;
      c.pending = false;
      c.inFlight?.abort();
      c.inFlight = null;
    };
  }, []);

  useEffect(() => {
    const c = ctrl.current;
    if (c.key !== key) {
      c.key = key;
      c.inFlight?.abort();
      if (key === null) setState({ data: null, dataKey: null, error: null, loading: false });
    }
    run();
  }, [key, trigger, run]);

  return state;
}
