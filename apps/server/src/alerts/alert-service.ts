/**
 * The alert lifecycle: open -> acknowledged -> resolved (or open -> resolved);
 * resolved is final. Every change is written through the store's optimistic
 * `update` (re-read and retried when someone else changed the alert first), then
 * published on the bus as `{type:'alert'}` so every WebSocket client sees it.
 *
 * Notifications go out on open and on resolve only (a refresh of the current
 * value is not news), in the background: the detector and the HTTP caller never
 * wait for Slack. Each channel's outcome is appended to the alert and the
 * updated alert is published again.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alert, NotificationOutcome } from '@edgeworker/schema';
import type { Bus } from '../events.ts';
import { AppError } from '../http/errors.ts';
import type { NotificationEvent, Notifier } from '../notify/notifier.ts';
import { AlertConflictError, type AlertStore } from '../stores/alert-store.ts';
import { InvalidCursorError } from '../stores/alert-cursor.ts';
import { LeadershipLostError, type AlertService, type Fence, type NoDataFinding, type RegressionFinding } from './types.ts';

export interface AlertServiceDeps {
  store: AlertStore;
  bus: Bus;
  notifier: Notifier;
  /** Clock in epoch ms. */
  now: () => number;
  log: Logger;
  ids?: () => string;
}

export interface RunningAlertService extends AlertService {
  /** Resolves once every background notification started so far has been recorded. */
  idle(): Promise<void>;
  /** Waits up to `graceMs` for background notifications, then stops waiting (they are not cancelled). */
  close(graceMs?: number): Promise<void>;
}

/** Writers racing on one alert retry this often before giving up with 409. */
const MAX_ATTEMPTS = 5;

export function createAlertService(deps: AlertServiceDeps): RunningAlertService {
  const { store, bus, notifier, log } = deps;
  const ids = deps.ids ?? randomUUID;
  const background = new Set<Promise<void>>();

  /** A timestamp strictly after `previous`, so optimistic updates always see a change even with a frozen clock. */
  const stampAfter = (previous: string) => new Date(Math.max(deps.now(), Date.parse(previous) + 1)).toISOString();

  const publish = (alert: Alert) => bus.publish({ type: 'alert', alert });

  async function mustGet(id: string): Promise<Alert> {
    const alert = await store.get(id);
    if (!alert) throw new AppError('alert_not_found', `no alert with id ${id}`, 404);
    return alert;
  }

  /**
   * Applies `change` to the current version of alert `id` until the optimistic
   * update wins. `change` returns null when there is nothing to write.
   */
  async function transition(id: string, change: (current: Alert) => Alert | null, fence?: Fence): Promise<{ alert: Alert; changed: boolean }> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await mustGet(id);
      const next = change(current);
      if (!next) return { alert: current, changed: false };
      await checkFence(fence);
      if (await store.update(next, current.updatedAt)) {
        // The store keeps notifications appended meanwhile: publish and return what it holds.
        const stored = (await store.get(id)) ?? next;
        publish(stored);
        return { alert: stored, changed: true };
      }
    }
    throw new AppError('alert_conflict', `alert ${id} kept changing while being updated; try again`, 409);
  }

  /** Last thing before a write: a deposed detector leader writes nothing more. */
  async function checkFence(fence: Fence | undefined) {
    if (fence && !(await fence())) throw new LeadershipLostError('this replica no longer leads the detector; the write was not made');
  }

  function notifyInBackground(event: NotificationEvent, alert: Alert) {
    if (notifier.channels.length === 0) return;
    const job = (async () => {
      let outcomes: NotificationOutcome[];
      try {
        outcomes = await notifier.notify(event, alert);
      } catch (err) {
        // The notifier promises not to throw; if it does, the alert still records that nothing went out.
        log.error({ err, alertId: alert.id, event }, 'notifier failed unexpectedly');
        outcomes = notifier.channels.map((channel) => ({
          channel, event, ok: false, at: new Date(deps.now()).toISOString(), error: (err as Error).message,
        }));
      }
      for (const o of outcomes) {
        if (!o.ok) log.warn({ alertId: alert.id, channel: o.channel, event, error: o.error }, 'notification failed');
      }
      try {
        await store.addNotifications(alert.id, outcomes.map((o) => ({ event, ...o })));
        const updated = await store.get(alert.id);
        if (updated) publish(updated);
      } catch (err) {
        log.warn({ err, alertId: alert.id }, 'could not record notification outcomes on the alert');
      }
    })();
    background.add(job);
    void job.finally(() => background.delete(job));
  }

  function refreshed(current: Alert, f: RegressionFinding): Alert | null {
    if (current.severity === f.severity && current.currentMs === f.currentMs &&
        current.baselineMs === f.baselineMs && current.changePct === f.changePct) return null;
    return {
      ...current,
      severity: f.severity,
      baselineMs: f.baselineMs,
      currentMs: f.currentMs,
      changePct: f.changePct,
      updatedAt: stampAfter(current.updatedAt),
    };
  }

  /**
   * Stores a new alert (fenced), then announces and notifies it; false when another writer
   * opened an unresolved one for the same pair first (nothing of this one was written).
   */
  async function openNew(alert: Alert, fence: Fence | undefined): Promise<boolean> {
    await checkFence(fence);
    try {
      await store.create(alert);
    } catch (err) {
      if (err instanceof AlertConflictError) return false;
      throw err;
    }
    publish(alert);
    notifyInBackground('opened', alert);
    return true;
  }

  async function raise(f: RegressionFinding, fence?: Fence): Promise<{ alert: Alert; created: boolean }> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const existing = await store.findUnresolved(f.popCode, f.functionName);
      if (existing) {
        try {
          const { alert } = await transition(existing.id, (current) => (current.status === 'resolved' ? null : refreshed(current, f)), fence);
          // Resolved between our read and the update: open a new one on the next attempt.
          if (alert.status !== 'resolved') return { alert, created: false };
          continue;
        } catch (err) {
          if (err instanceof AppError && err.code === 'alert_conflict') continue;
          throw err;
        }
      }
      const at = new Date(deps.now()).toISOString();
      const alert: Alert = {
        id: ids(),
        type: 'regression',
        popCode: f.popCode,
        functionName: f.functionName,
        severity: f.severity,
        status: 'open',
        baselineMs: f.baselineMs,
        currentMs: f.currentMs,
        changePct: f.changePct,
        createdAt: at,
        updatedAt: at,
        notifications: [],
      };
      // Another writer (another replica's detector) opened it first: refresh theirs instead.
      if (!(await openNew(alert, fence))) continue;
      // The detector logs what it opens at info; this line is for tracing the service.
      log.debug({ alertId: alert.id, pop: f.popCode, fn: f.functionName, severity: f.severity, changePct: f.changePct }, 'regression alert opened');
      return { alert, created: true };
    }
    throw new AppError('alert_conflict', `the alert of ${f.popCode}/${f.functionName} kept changing while being raised; try again`, 409);
  }

  async function raiseNoData(f: NoDataFinding, fence?: Fence): Promise<{ alert: Alert; created: boolean }> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const existing = await store.findUnresolved(f.popCode, f.functionName, 'no_data');
      if (existing) return { alert: existing, created: false };
      const at = new Date(deps.now()).toISOString();
      const alert: Alert = {
        id: ids(),
        type: 'no_data',
        popCode: f.popCode,
        functionName: f.functionName,
        severity: f.severity,
        status: 'open',
        baselineMs: f.baselineMs,
        currentMs: 0,
        changePct: 0,
        createdAt: at,
        updatedAt: at,
        notifications: [],
        lastSeenAt: new Date(f.lastSeenMs).toISOString(),
        ...(f.silentSeries !== undefined ? { silentSeries: f.silentSeries } : {}),
      };
      // Another writer opened it first: theirs stands.
      if (!(await openNew(alert, fence))) continue;
      log.debug({ alertId: alert.id, pop: f.popCode, fn: f.functionName }, 'no_data alert opened');
      return { alert, created: true };
    }
    throw new AppError('alert_conflict', `the no_data alert of ${f.popCode}/${f.functionName} kept changing while being raised; try again`, 409);
  }

  async function resolve(id: string, by: 'detector' | 'operator', fence?: Fence): Promise<Alert> {
    const { alert } = await transition(id, (current) => {
      if (current.status === 'resolved') {
        throw new AppError('alert_already_resolved', `alert ${id} was already resolved at ${current.resolvedAt ?? current.updatedAt}`, 409);
      }
      const at = stampAfter(current.updatedAt);
      return { ...current, status: 'resolved', resolvedAt: at, resolvedBy: by, updatedAt: at };
    }, fence);
    // Operator actions are news in the log; the detector logs its own resolutions.
    log[by === 'operator' ? 'info' : 'debug']({ alertId: id, by, pop: alert.popCode, fn: alert.functionName }, 'regression alert resolved');
    notifyInBackground('resolved', alert);
    return alert;
  }

  async function acknowledge(id: string): Promise<Alert> {
    const { alert } = await transition(id, (current) => {
      if (current.status === 'acknowledged') {
        throw new AppError('alert_already_acknowledged', `alert ${id} was already acknowledged at ${current.acknowledgedAt ?? current.updatedAt}`, 409);
      }
      if (current.status === 'resolved') {
        throw new AppError('alert_already_resolved', `alert ${id} is resolved; only open alerts can be acknowledged`, 409);
      }
      const at = stampAfter(current.updatedAt);
      return { ...current, status: 'acknowledged', acknowledgedAt: at, updatedAt: at };
    });
    log.info({ alertId: id, pop: alert.popCode, fn: alert.functionName }, 'regression alert acknowledged');
    return alert;
  }

  async function idle() {
    while (background.size > 0) await Promise.allSettled([...background]);
  }

  return {
    raise,
    raiseNoData,
    resolve,
    acknowledge,
    get: mustGet,
    async list(query) {
      try {
        return await store.list(query);
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new AppError('invalid_cursor', err.message, 400);
        throw err;
      }
    },
    listUnresolved: () => store.listUnresolved(),
    countUnresolved: (type) => store.countUnresolved(type),
    idle,
    async close(graceMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const pending = background.size;
      const timedOut = await Promise.race([
        idle().then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) log.warn({ pending }, 'closing with notifications still in flight; their outcomes may not be recorded');
    },
  };
}
