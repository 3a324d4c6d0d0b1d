import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Alert, NotificationOutcome } from '@edgeworker/schema';
import { createLocalBus } from '../events.ts';
import { AppError } from '../http/errors.ts';
import type { NotificationEvent, Notifier } from '../notify/notifier.ts';
import type { AlertStore } from '../stores/alert-store.ts';
import { createEmbeddedAlertStore } from '../stores/embedded/embedded-alert-store.ts';
import { createAlertService } from './alert-service.ts';
import type { RegressionFinding } from './types.ts';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

/** A real, small Notifier: records every call and answers what the test tells it to. */
function recordingNotifier(opts: { channels?: string[]; fail?: string[]; gate?: Promise<void>; throws?: boolean } = {}) {
  const calls: { event: NotificationEvent; alert: Alert }[] = [];
  const channels = opts.channels ?? ['slack', 'webhook'];
  const notifier: Notifier = {
    channels,
    async notify(event, alert) {
      calls.push({ event, alert });
      await opts.gate;
      if (opts.throws) throw new Error('notifier exploded');
      return channels.map((channel): NotificationOutcome => {
        const ok = !opts.fail?.includes(channel);
        return ok
          ? { channel, ok, at: new Date(T0).toISOString(), attempts: 1 }
          : { channel, ok, at: new Date(T0).toISOString(), attempts: 3, error: `${channel} answered 503` };
      });
    },
    async close() {},
  };
  return { notifier, calls };
}

async function setup(t: TestContext, notifierOpts: Parameters<typeof recordingNotifier>[0] = {}, shared?: { store: AlertStore }) {
  let store = shared?.store;
  if (!store) {
    const dir = mkdtempSync(join(tmpdir(), 'ewm-alert-svc-'));
    store = await createEmbeddedAlertStore({ path: join(dir, 'alerts.duckdb') });
    const s = store;
    t.after(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
  }
  let clock = T0;
  const bus = createLocalBus((err) => {
    throw err;
  });
  const published: Alert[] = [];
  bus.subscribe((e) => {
    if (e.type === 'alert') published.push(e.alert);
  });
  const { notifier, calls } = recordingNotifier(notifierOpts);
  let n = 0;
  const service = createAlertService({
    store, bus, notifier, now: () => clock, log: pino({ level: 'silent' }), ids: () => `a${++n}-${Math.random().toString(36).slice(2, 8)}`,
  });
  t.after(() => service.close(1000));
  return { store, service, published, calls, advance: (ms: number) => (clock += ms) };
}

const finding = (over: Partial<RegressionFinding> = {}): RegressionFinding => ({
  popCode: 'FRA', functionName: 'ssr-render', severity: 'warning', baselineMs: 100, currentMs: 150, changePct: 50, ...over,
});

const rejectsWith = (p: Promise<unknown>, code: string, status: number) =>
  assert.rejects(p, (err: unknown) => err instanceof AppError && err.code === code && err.statusCode === status);

describe('alert service', () => {
  it('opens an alert, publishes it, notifies once in the background and records each channel', async (t) => {
    const { service, published, calls, store } = await setup(t, { fail: ['webhook'] });
    const { alert, created } = await service.raise(finding());
    assert.equal(created, true);
    assert.equal(alert.status, 'open');
    assert.equal(alert.createdAt, new Date(T0).toISOString());
    assert.deepEqual(published.map((a) => a.id), [alert.id]);
    await service.idle();
    assert.deepEqual(calls.map((c) => [c.event, c.alert.id]), [['opened', alert.id]]);
    const stored = await store.get(alert.id);
    assert.deepEqual(stored?.notifications.map((o) => [o.channel, o.event, o.ok, o.error]), [
      ['slack', 'opened', true, undefined],
      ['webhook', 'opened', false, 'webhook answered 503'],
    ]);
    // The outcomes reach the dashboards too.
    assert.equal(published.length, 2);
    assert.equal(published[1]!.notifications.length, 2);
  });

  it('refreshes the unresolved alert of a pair without notifying, and writes nothing when nothing changed', async (t) => {
    const { service, published, calls, advance } = await setup(t);
    const first = await service.raise(finding());
    await service.idle();
    const before = published.length;
    advance(60_000);
    const again = await service.raise(finding({ severity: 'critical', currentMs: 260, changePct: 160 }));
    assert.equal(again.created, false);
    assert.equal(again.alert.id, first.alert.id);
    assert.equal(again.alert.severity, 'critical');
    assert.equal(again.alert.currentMs, 260);
    assert.equal(again.alert.createdAt, first.alert.createdAt);
    assert.equal(again.alert.updatedAt, new Date(T0 + 60_000).toISOString());
    assert.equal(again.alert.notifications.length, 2, 'the outcomes recorded at open are kept');
    assert.equal(published.length, before + 1);
    const same = await service.raise(finding({ severity: 'critical', currentMs: 260, changePct: 160 }));
    assert.equal(same.alert.updatedAt, again.alert.updatedAt);
    assert.equal(published.length, before + 1, 'no change, no message');
    await service.idle();
    assert.equal(calls.length, 1, 'only the open was notified');
    assert.equal(await service.countUnresolved(), 1);
  });

  it('never makes the caller wait for a slow notifier', async (t) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { service, calls, store } = await setup(t, { gate });
    const { alert } = await service.raise(finding());
    assert.equal(calls.length, 1, 'notification started');
    assert.deepEqual((await store.get(alert.id))?.notifications, [], 'but not finished');
    const resolved = await service.resolve(alert.id, 'detector');
    assert.equal(resolved.status, 'resolved');
    release();
    await service.idle();
    const outcomes = (await store.get(alert.id))!.notifications;
    assert.deepEqual(outcomes.map((o) => o.event).sort(), ['opened', 'opened', 'resolved', 'resolved']);
    assert.equal((await store.get(alert.id))!.status, 'resolved', 'recording outcomes does not undo the resolve');
  });

  it('resolves once (detector or operator), notifies, and lets the pair open a new alert afterwards', async (t) => {
    const { service, calls, advance } = await setup(t);
    const { alert } = await service.raise(finding());
    advance(5000);
    const resolved = await service.resolve(alert.id, 'operator');
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.resolvedBy, 'operator');
    assert.equal(resolved.resolvedAt, new Date(T0 + 5000).toISOString());
    await rejectsWith(service.resolve(alert.id, 'detector'), 'alert_already_resolved', 409);
    await service.idle();
    assert.deepEqual(calls.map((c) => c.event), ['opened', 'resolved']);
    assert.equal(calls[1]!.alert.status, 'resolved');
    assert.equal(await service.countUnresolved(), 0);
    const next = await service.raise(finding());
    assert.equal(next.created, true);
    assert.notEqual(next.alert.id, alert.id);
  });

  it('acknowledges open alerts only', async (t) => {
    const { service, published, advance } = await setup(t);
    const { alert } = await service.raise(finding());
    advance(1000);
    const acked = await service.acknowledge(alert.id);
    assert.equal(acked.status, 'acknowledged');
    assert.equal(acked.acknowledgedAt, new Date(T0 + 1000).toISOString());
    assert.equal(published.at(-1)?.status, 'acknowledged');
    await rejectsWith(service.acknowledge(alert.id), 'alert_already_acknowledged', 409);
    assert.equal(await service.countUnresolved(), 1, 'acknowledged is still unresolved');
    const resolved = await service.resolve(alert.id, 'detector');
    assert.equal(resolved.acknowledgedAt, acked.acknowledgedAt);
    await rejectsWith(service.acknowledge(alert.id), 'alert_already_resolved', 409);
  });

  it('answers 404 for unknown alerts and 400 for a foreign cursor', async (t) => {
    const { service } = await setup(t);
    await rejectsWith(service.get('nope'), 'alert_not_found', 404);
    await rejectsWith(service.acknowledge('nope'), 'alert_not_found', 404);
    await rejectsWith(service.resolve('nope', 'operator'), 'alert_not_found', 404);
    await rejectsWith(service.list({ cursor: 'bogus' }), 'invalid_cursor', 400);
  });

  it('opens one alert when two detectors raise the same pair at once (create race -> refresh)', async (t) => {
    const a = await setup(t);
    const b = await setup(t, {}, { store: a.store });
    const results = await Promise.all([
      a.service.raise(finding({ currentMs: 150 })),
      b.service.raise(finding({ currentMs: 170, changePct: 70 })),
      a.service.raise(finding({ currentMs: 180, changePct: 80 })),
    ]);
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.alert.id)).size, 1);
    assert.equal(await a.service.countUnresolved(), 1);
    await Promise.all([a.service.idle(), b.service.idle()]);
    assert.equal(a.calls.length + b.calls.length, 1, 'notified once');
  });

  it('keeps the lifecycle consistent when an operator acknowledges while the detector resolves', async (t) => {
    const { service, store } = await setup(t);
    const { alert } = await service.raise(finding());
    const [ack, res] = await Promise.allSettled([service.acknowledge(alert.id), service.resolve(alert.id, 'detector')]);
    assert.equal(res.status, 'fulfilled');
    if (ack.status === 'rejected') assert.equal((ack.reason as AppError).code, 'alert_already_resolved');
    assert.equal((await store.get(alert.id))!.status, 'resolved');
  });

  it('records a failed outcome per channel when the notifier itself throws, and still works', async (t) => {
    const { service, store } = await setup(t, { throws: true, channels: ['email'] });
    const { alert } = await service.raise(finding());
    await service.idle();
    const outcomes = (await store.get(alert.id))!.notifications;
    assert.deepEqual(outcomes.map((o) => [o.channel, o.event, o.ok, o.error]), [['email', 'opened', false, 'notifier exploded']]);
  });

  it('notifies nobody and records nothing when no channel is configured', async (t) => {
    const { service, calls, store } = await setup(t, { channels: [] });
    const { alert } = await service.raise(finding());
    await service.idle();
    assert.equal(calls.length, 0);
    assert.deepEqual((await store.get(alert.id))!.notifications, []);
  });
});
