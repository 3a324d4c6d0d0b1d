/**
 * A list of alerts (by status and/or POP), loaded from the API and kept current: live
 * `alert` messages are merged in at once, and the list is refetched (coalesced) on them
 * too, so totals and ordering stay right. Acknowledge/resolve update the list from the
 * server's answer without waiting for the broadcast.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Alert, AlertStatus } from '@edgeworker/schema';
import { api, errorMessage, type AlertPage } from '../api/client';
import { mergeAlert } from '../lib/alerts';
import { useCoalescedFetch } from './useCoalescedFetch';

export interface AlertsState {
  alerts: Alert[];
  total: number | null;
  loading: boolean;
  error: string | null;
  /** Why the last acknowledge/resolve failed, if it did. */
  actionError: string | null;
  /** Ids with an action in flight. */
  busy: ReadonlySet<string>;
  act: (id: string, action: 'acknowledge' | 'resolve') => Promise<void>;
}

export function useAlerts(
  filter: { status: AlertStatus | null; pop: string | null },
  lastAlert: Alert | null,
  alertVersion: number,
): AlertsState {
  const { status, pop } = filter;
  const load = useCallback((signal: AbortSignal) => api.alerts({ status, pop }, signal), [status, pop]);
  const page = useCoalescedFetch<AlertPage>(`${status ?? '*'}|${pop ?? '*'}`, load, alertVersion);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [actionError, setActionError] = useState<string | null>(null);

  useEffect(() => {
    if (page.data) setAlerts(Array.isArray(page.data.alerts) ? page.data.alerts : []);
  }, [page.data]);

  useEffect(() => {
    if (lastAlert) setAlerts((list) => mergeAlert(list, lastAlert, { status, popCode: pop }));
  }, [lastAlert, status, pop]);

  const act = useCallback(
    async (id: string, action: 'acknowledge' | 'resolve') => {
      setBusy((b) => new Set(b).add(id));
      setActionError(null);
      try {
        const updated = action === 'acknowledge' ? await api.acknowledgeAlert(id) : await api.resolveAlert(id);
        setAlerts((list) => mergeAlert(list, updated, { status, popCode: pop }));
      } catch (err) {
        setActionError(`Could not ${action} the alert: ${errorMessage(err)}`);
      } finally {
        setBusy((b) => {
          const n = new Set(b);
          n.delete(id);
          return n;
        });
      }
    },
    [status, pop],
  );

  return {
    alerts,
    total: page.data?.total ?? null,
    loading: page.data === null && !page.error,
    error: page.error,
    actionError,
    busy,
    act,
  };
}
