/**
 * The contract every AlertStore adapter must meet. Adapter test files call
 * `alertStoreContract(name, open)`; `open` returns a fresh, empty store and, for
 * durable adapters, `reopen` to open the same data again after `close`.
 *
 * Two rules beyond the port's comments, relied on by the alert service:
 * - `update` keeps the stored `notifications`: they belong to `addNotifications`,
 *   which may append while the service holds an older copy of the alert.
 * - `addNotifications` does not change `updatedAt`, so it never makes a
 *   concurrent optimistic `update` fail.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '@edgeworker/schema';
import { AlertConflictError, type AlertStore } from './alert-store.ts';
import { InvalidCursorError } from './alert-cursor.ts';

export interface OpenedAlertStore {
  store: AlertStore;
  /** Durable adapters: opens the same data again (after `store.close()`). */
  reopen?: () => Promise<AlertStore>;
}

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
let seq = 0;

/** An open alert; ids are unique within the test process. */
export function makeAlert(over: Partial<Alert> = {}): Alert {
  seq++;
  const createdAt = over.createdAt ?? iso(seq * 1000);
  return {
    id: `alert-${String(seq).padStart(5, '0')}`,
    type: 'regression',
    popCode: 'FRA',
    functionName: 'ssr-render',
    severity: 'warning',
    status: 'open',
    baselineMs: 100,
    currentMs: 150,
    changePct: 50,
    createdAt,
    updatedAt: createdAt,
    notifications: [],
    ...over,
  };
}

function resolved(a: Alert, at: string): Alert {
  return { ...a, status: 'resolved', resolvedAt: at, resolvedBy: 'detector', updatedAt: at };
}

export function alertStoreContract(name: string, open: () => Promise<OpenedAlertStore>) {
  const fresh = async (t: { after: (fn: () => Promise<void>) => void }) => {
    const opened = await open();
    t.after(() => opened.store.close());
    return opened;
  };

  describe(`AlertStore contract: ${name}`, () => {
    it('stores an alert and reads it back unchanged; unknown ids are null', async (t) => {
      const { store } = await fresh(t);
      const a = makeAlert({ severity: 'critical', baselineMs: 120.5, currentMs: 333.25, changePct: 176.5 });
      await store.create(a);
      assert.deepEqual(await store.get(a.id), a);
      assert.equal(await store.get('no-such-alert'), null);
      assert.deepEqual(await store.findUnresolved('FRA', 'ssr-render'), a);
      assert.equal(await store.findUnresolved('FRA', 'other-fn'), null);
    });

    it('refuses a second unresolved alert for the same (POP, function), open or acknowledged', async (t) => {
      const { store } = await fresh(t);
      const first = makeAlert();
      await store.create(first);
      await assert.rejects(store.create(makeAlert()), AlertConflictError);
      const acked = { ...first, status: 'acknowledged' as const, acknowledgedAt: iso(90_000), updatedAt: iso(90_000) };
      assert.equal(await store.update(acked, first.updatedAt), true);
      await assert.rejects(store.create(makeAlert()), AlertConflictError);
      // Other pairs are independent.
      await store.create(makeAlert({ functionName: 'image-resize' }));
      await store.create(makeAlert({ popCode: 'AMS' }));
      assert.equal(await store.countUnresolved(), 3);
    });

    it('keeps one unresolved alert per type: a no_data alert beside a regression of the same pair, each found, counted and listed by type', async (t) => {
      const { store } = await fresh(t);
      const regression = makeAlert();
      await store.create(regression);
      const silent = makeAlert({ type: 'no_data', baselineMs: 0, currentMs: 0, changePct: 0, lastSeenAt: iso(10_000) });
      await store.create(silent);
      await assert.rejects(store.create(makeAlert({ type: 'no_data' })), AlertConflictError);
      const pop = makeAlert({ type: 'no_data', functionName: '*', silentSeries: 5, baselineMs: 0, currentMs: 0, changePct: 0 });
      await store.create(pop);
      assert.deepEqual(await store.get(pop.id), pop);
      assert.equal((await store.findUnresolved('FRA', 'ssr-render'))?.id, regression.id);
      assert.equal((await store.findUnresolved('FRA', 'ssr-render', 'regression'))?.id, regression.id);
      assert.deepEqual(await store.findUnresolved('FRA', 'ssr-render', 'no_data'), silent);
      assert.equal((await store.findUnresolved('FRA', '*', 'no_data'))?.id, pop.id);
      assert.equal(await store.countUnresolved(), 3);
      assert.equal(await store.countUnresolved('regression'), 1);
      assert.equal(await store.countUnresolved('no_data'), 2);
      assert.deepEqual((await store.list({ type: 'no_data' })).alerts.map((a) => a.id).sort(), [silent.id, pop.id].sort());
      assert.equal((await store.list({ type: 'regression' })).total, 1);
      // Resolving the no_data alert frees its key only.
      assert.equal(await store.update(resolved(silent, iso(500_000)), silent.updatedAt), true);
      assert.equal(await store.findUnresolved('FRA', 'ssr-render', 'no_data'), null);
      assert.equal((await store.findUnresolved('FRA', 'ssr-render'))?.id, regression.id);
    });

    it('lets a resolved alert not block a new one for the same pair', async (t) => {
      const { store } = await fresh(t);
      const first = makeAlert();
      await store.create(first);
      assert.equal(await store.update(resolved(first, iso(500_000)), first.updatedAt), true);
      assert.equal(await store.findUnresolved('FRA', 'ssr-render'), null);
      const second = makeAlert();
      await store.create(second);
      assert.equal((await store.findUnresolved('FRA', 'ssr-render'))?.id, second.id);
      assert.equal((await store.get(first.id))?.status, 'resolved');
      assert.equal(await store.countUnresolved(), 1);
    });

    it('lets exactly one of several concurrent creates for a pair win', async (t) => {
      const { store } = await fresh(t);
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => store.create(makeAlert({ popCode: 'NRT' }))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AlertConflictError, String(r.reason));
      assert.equal((await store.listUnresolved()).length, 1);
    });

    it('filters by status, POP and function, newest first, with the total', async (t) => {
      const { store } = await fresh(t);
      const fraSsr = makeAlert({ popCode: 'FRA', functionName: 'ssr-render' });
      const fraImg = makeAlert({ popCode: 'FRA', functionName: 'image-resize' });
      const amsSsr = makeAlert({ popCode: 'AMS', functionName: 'ssr-render' });
      const oldFra = makeAlert({ popCode: 'FRA', functionName: 'ssr-render', createdAt: iso(-60_000), updatedAt: iso(-60_000) });
      for (const a of [oldFra, fraSsr, fraImg, amsSsr]) {
        if (a === fraSsr) assert.equal(await store.update(resolved(oldFra, iso(1)), oldFra.updatedAt), true);
        await store.create(a);
      }
      const acked = { ...fraImg, status: 'acknowledged' as const, acknowledgedAt: iso(999_000), updatedAt: iso(999_000) };
      assert.equal(await store.update(acked, fraImg.updatedAt), true);

      const ids = async (q: Parameters<AlertStore['list']>[0]) => {
        const page = await store.list(q);
        return { ids: page.alerts.map((a) => a.id), total: page.total, next: page.next };
      };
      assert.deepEqual(await ids({}), { ids: [amsSsr.id, fraImg.id, fraSsr.id, oldFra.id], total: 4, next: null });
      assert.deepEqual(await ids({ status: 'open' }), { ids: [amsSsr.id, fraSsr.id], total: 2, next: null });
      assert.deepEqual(await ids({ status: 'acknowledged' }), { ids: [fraImg.id], total: 1, next: null });
      assert.deepEqual(await ids({ status: 'resolved' }), { ids: [oldFra.id], total: 1, next: null });
      assert.deepEqual(await ids({ popCode: 'FRA' }), { ids: [fraImg.id, fraSsr.id, oldFra.id], total: 3, next: null });
      assert.deepEqual(await ids({ functionName: 'ssr-render' }), { ids: [amsSsr.id, fraSsr.id, oldFra.id], total: 3, next: null });
      assert.deepEqual(await ids({ popCode: 'FRA', functionName: 'ssr-render', status: 'open' }), { ids: [fraSsr.id], total: 1, next: null });
      assert.deepEqual(await ids({ popCode: 'XXX' }), { ids: [], total: 0, next: null });
      assert.deepEqual((await store.list({ status: 'acknowledged' })).alerts[0], acked);
    });

    it('pages newest first with a cursor: no gaps, no repeats, ties broken by id', async (t) => {
      const { store } = await fresh(t);
      const sameTime = iso(7_777_000);
      const alerts = [
        ...Array.from({ length: 5 }, (_, i) => makeAlert({ popCode: `P${i}` })),
        // Two alerts created in the same millisecond must still page deterministically.
        makeAlert({ popCode: 'T1', createdAt: sameTime, updatedAt: sameTime }),
        makeAlert({ popCode: 'T2', createdAt: sameTime, updatedAt: sameTime }),
      ];
      for (const a of alerts) await store.create(a);
      const expected = [...alerts].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)).map((a) => a.id);

      const seen: string[] = [];
      let cursor: string | undefined;
      const sizes: number[] = [];
      for (let i = 0; i < 10; i++) {
        const page = await store.list({ limit: 3, cursor });
        assert.equal(page.total, 7);
        sizes.push(page.alerts.length);
        seen.push(...page.alerts.map((a) => a.id));
        if (page.next === null) break;
        cursor = page.next;
      }
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.deepEqual(seen, expected);

      // A new alert arriving between pages does not shift the next page.
      const first = await store.list({ limit: 2 });
      await store.create(makeAlert({ popCode: 'NEW', createdAt: iso(9_999_000), updatedAt: iso(9_999_000) }));
      const second = await store.list({ limit: 2, cursor: first.next! });
      assert.deepEqual(second.alerts.map((a) => a.id), expected.slice(2, 4));
      assert.equal(second.total, 8);

      await assert.rejects(store.list({ cursor: 'not-a-cursor' }), InvalidCursorError);
    });

    it('updates only when updatedAt is what the caller read (optimistic concurrency)', async (t) => {
      const { store } = await fresh(t);
      const a = makeAlert();
      await store.create(a);
      const v2 = { ...a, currentMs: 180, changePct: 80, severity: 'critical' as const, updatedAt: iso(100_000) };
      assert.equal(await store.update(v2, a.updatedAt), true);
      const stale = { ...a, currentMs: 999, updatedAt: iso(200_000) };
      assert.equal(await store.update(stale, a.updatedAt), false, 'a writer holding the old version must lose');
      assert.deepEqual(await store.get(a.id), v2);
      assert.equal(await store.update(makeAlert({ id: 'never-created' }), iso(0)), false);
    });

    it('appends notification outcomes in order without touching anything else', async (t) => {
      const { store } = await fresh(t);
      const a = makeAlert();
      await store.create(a);
      const slack = { channel: 'slack', event: 'opened' as const, ok: true, at: iso(5000), attempts: 1 };
      const mail = { channel: 'email', event: 'opened' as const, ok: false, at: iso(6000), attempts: 3, error: 'connection refused' };
      await store.addNotifications(a.id, [slack]);
      await store.addNotifications(a.id, [mail]);
      await store.addNotifications(a.id, []);
      assert.deepEqual(await store.get(a.id), { ...a, notifications: [slack, mail] });

      // An update from a copy read before the outcomes landed keeps them.
      const ack = { ...a, status: 'acknowledged' as const, acknowledgedAt: iso(7000), updatedAt: iso(7000) };
      assert.equal(await store.update(ack, a.updatedAt), true);
      assert.deepEqual(await store.get(a.id), { ...ack, notifications: [slack, mail] });
      await store.addNotifications('no-such-alert', [slack]);
    });

    it('counts and lists the unresolved alerts only', async (t) => {
      const { store } = await fresh(t);
      assert.equal(await store.countUnresolved(), 0);
      assert.deepEqual(await store.listUnresolved(), []);
      const open = makeAlert({ popCode: 'LHR' });
      const acked = makeAlert({ popCode: 'CDG', status: 'acknowledged', acknowledgedAt: iso(1) });
      const done = makeAlert({ popCode: 'MAD' });
      for (const a of [open, acked, done]) await store.create(a);
      assert.equal(await store.update(resolved(done, iso(800_000)), done.updatedAt), true);
      assert.equal(await store.countUnresolved(), 2);
      assert.deepEqual((await store.listUnresolved()).map((a) => a.id).sort(), [open.id, acked.id].sort());
      await store.ping();
    });

    it('keeps alerts, their state and the one-unresolved rule across close and reopen (durable adapters)', async (t) => {
      const opened = await open();
      if (!opened.reopen) {
        // In-memory adapters have nothing to reopen; the suite says so instead of passing silently.
        await opened.store.close();
        t.diagnostic(`${name} is not durable: nothing to check across a reopen`);
        return;
      }
      const a = makeAlert({ popCode: 'SYD' });
      const b = makeAlert({ popCode: 'MEL' });
      await opened.store.create(a);
      await opened.store.create(b);
      const bDone = resolved(b, iso(900_000));
      assert.equal(await opened.store.update(bDone, b.updatedAt), true);
      const note = { channel: 'webhook', event: 'opened' as const, ok: true, at: iso(1), attempts: 1 };
      await opened.store.addNotifications(a.id, [note]);
      await opened.store.close();

      const again = await opened.reopen();
      t.after(() => again.close());
      assert.deepEqual(await again.get(a.id), { ...a, notifications: [note] });
      assert.deepEqual(await again.get(b.id), bDone);
      assert.equal(await again.countUnresolved(), 1);
      await assert.rejects(again.create(makeAlert({ popCode: 'SYD' })), AlertConflictError);
      await again.create(makeAlert({ popCode: 'MEL' }));
      assert.equal((await again.list({})).total, 3);
    });
  });
}
