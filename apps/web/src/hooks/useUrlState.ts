/**
 * The dashboard's view state, living in the URL (History API). Opening a POP or switching
 * view pushes a history entry, so Back closes the drill-down; filters, sort and range
 * replace the current entry so Back does not step through every click.
 */
import { useCallback, useEffect, useState } from 'react';
import { parseUrlState, serialiseUrlState, type UrlState } from '../lib/urlState';

export type UrlStateUpdate = (patch: Partial<UrlState>, mode?: 'push' | 'replace') => void;

export function useUrlState(): [UrlState, UrlStateUpdate] {
  const [state, setState] = useState<UrlState>(() => parseUrlState(window.location.search));

  useEffect(() => {
    const onPop = () => setState(parseUrlState(window.location.search));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const update = useCallback<UrlStateUpdate>((patch, mode = 'replace') => {
    setState((prev) => {
      const next = { ...prev, ...patch };
      const search = serialiseUrlState(next);
      if (search !== window.location.search) {
        const url = `${window.location.pathname}${search}${window.location.hash}`;
        if (mode === 'push') window.history.pushState(null, '', url);
        else window.history.replaceState(null, '', url);
      }
      return next;
    });
  }, []);

  return [state, update];
}
