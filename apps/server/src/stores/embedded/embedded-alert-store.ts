/**
 * Embedded alert store: `alerts.duckdb` in DATA_DIR, beside the metrics file.
 *
 * Why DuckDB: it is already the embedded engine, and every statement commits through
 * its write-ahead log (a crash loses nothing acknowledged and never leaves half a
 * row). `unresolved_key` holds "POP, function" while the alert is open or
 * acknowledged and NULL once resolved (NULLs never collide), and its UNIQUE
 * constraint lets the file itself refuse a second unresolved alert per pair; create
 * also checks first, inside the store's serial queue, to say so plainly.
 *
 * The whole Alert is kept as JSON in `doc`; the other columns exist to filter,
 * order and guard. Alerts are few (one per regression), so one connection with
 * one statement at a time is plenty, and it makes read-modify-write steps
 * (update keeping notifications, appending outcomes) atomic within the process.
 */
import type { Alert, NotificationOutcome } from '@edgeworker/schema';
import type { Logger } from 'pino';
import { AlertConflictError, type AlertPage, type AlertQuery, type AlertStore } from '../alert-store.ts';
import { decodeCursor, encodeCursor, pageSize, unresolvedKey } from '../alert-cursor.ts';
import { createSerialQueue } from '../duckdb/serial.ts';
import { openDuckDbFile } from '../duckdb/open.ts';

export interface EmbeddedAlertStoreOptions {
  /** Database file (e.g. DATA_DIR/alerts.duckdb), or ':memory:'. */
  path: string;
  log?: Logger;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS alerts (
  id VARCHAR PRIMARY KEY,
  pop_code VARCHAR NOT NULL,
  function_name VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  created_at VARCHAR NOT NULL,
  updated_at VARCHAR NOT NULL,
  unresolved_key VARCHAR UNIQUE,
  doc VARCHAR NOT NULL
)`;

type Params = Record<string, string | number | null>;

export async function createEmbeddedAlertStore(opts: EmbeddedAlertStoreOptions): Promise<AlertStore> {
  const instance = await openDuckDbFile(opts.path, 'alert store');
  const conn = await instance.connect();
  await conn.run(CREATE_TABLE);
  // Files from before no_data alerts: every alert in them is a regression.
  await conn.run(`ALTER TABLE alerts ADD COLUMN IF NOT EXISTS type VARCHAR DEFAULT 'regression'`);
  const queue = createSerialQueue();
  let closed = false;
  let closing: Promise<void> | undefined;

  /** Runs a job alone on the connection; fails clearly once closed. */
  const exclusive = <T>(job: () => Promise<T>) =>
    queue(async () => {
      if (closed) throw new Error('the embedded alert store is closed');
      return job();
    });
  const rows = async (sql: string, params: Params = {}) =>
    (await conn.runAndReadAll(sql, params)).getRowObjectsJS() as Record<string, unknown>[];
  const docs = async (sql: string, params: Params = {}) => (await rows(sql, params)).map((r) => JSON.parse(String(r.doc)) as Alert);
  const one = async (sql: string, params: Params) => (await docs(sql, params))[0] ?? null;

  function filters(q: AlertQuery): { sql: string; params: Params } {
    const parts: string[] = [];
    const params: Params = {};
    if (q.status) {
      parts.push('status = $status');
      params.status = q.status;
    }
    if (q.type) {
      parts.push('type = $type');
      params.type = q.type;
    }
    if (q.popCode) {
      parts.push('pop_code = $pop');
      params.pop = q.popCode;
    }
    if (q.functionName) {
      parts.push('function_name = $fn');
      params.fn = q.functionName;
    }
    return { sql: parts.length ? parts.join(' AND ') : 'TRUE', params };
  }

  /** Writes the row for `alert` (an existing id). */
  const writeRow = (alert: Alert) =>
    conn.run(
      `UPDATE alerts SET status = $status, updated_at = $updated, unresolved_key = $key, doc = $doc WHERE id = $id`,
      {
        id: alert.id,
        status: alert.status,
        updated: alert.updatedAt,
        key: keyOf(alert),
        doc: JSON.stringify(alert),
      },
    );

  return {
    kind: 'embedded',
    create(alert) {
      return exclusive(async () => {
        const key = keyOf(alert);
        if (key !== null && (await rows('SELECT id FROM alerts WHERE unresolved_key = $key', { key })).length > 0) {
          throw new AlertConflictError(`${alert.popCode}/${alert.functionName} already has an unresolved alert`);
        }
        try {
          await conn.run(
            `INSERT INTO alerts (id, pop_code, function_name, status, created_at, updated_at, unresolved_key, doc, type)
             VALUES ($id, $pop, $fn, $status, $created, $updated, $key, $doc, $type)`,
            {
              id: alert.id,
              type: alert.type,
              pop: alert.popCode,
              fn: alert.functionName,
              status: alert.status,
              created: alert.createdAt,
              updated: alert.updatedAt,
              key: keyOf(alert),
              doc: JSON.stringify(alert),
            },
          );
        } catch (err) {
          if (/unique|primary key|duplicate key/i.test((err as Error).message)) {
            throw new AlertConflictError(
              `${alert.popCode}/${alert.functionName} already has an unresolved alert (or id ${alert.id} is taken)`,
              { cause: err },
            );
          }
          throw err;
        }
      });
    },
    get(id) {
      return exclusive(() => one('SELECT doc FROM alerts WHERE id = $id', { id }));
    },
    findUnresolved(popCode, functionName, type = 'regression') {
      return exclusive(() => one('SELECT doc FROM alerts WHERE unresolved_key = $key', { key: unresolvedKey(popCode, functionName, type) }));
    },
    listUnresolved() {
      return exclusive(() => docs('SELECT doc FROM alerts WHERE unresolved_key IS NOT NULL ORDER BY created_at DESC, id DESC'));
    },
    async list(q): Promise<AlertPage> {
      // Async so a bad cursor rejects like every other store error.
      const limit = pageSize(q.limit);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      return exclusive(async () => {
        const f = filters(q);
        const total = Number((await rows(`SELECT count(*) AS n FROM alerts WHERE ${f.sql}`, f.params))[0]?.n ?? 0);
        let sql = `SELECT doc FROM alerts WHERE ${f.sql}`;
        const params: Params = { ...f.params, lim: limit + 1 };
        if (after) {
          sql += ' AND (created_at < $cAt OR (created_at = $cAt AND id < $cId))';
          params.cAt = after.createdAt;
          params.cId = after.id;
        }
        const found = await docs(`${sql} ORDER BY created_at DESC, id DESC LIMIT $lim`, params);
        const alerts = found.slice(0, limit);
        const last = alerts[alerts.length - 1];
        return { alerts, total, next: found.length > limit && last ? encodeCursor(last) : null };
      });
    },
    countUnresolved(type) {
      return exclusive(async () => {
        const sql = `SELECT count(*) AS n FROM alerts WHERE unresolved_key IS NOT NULL${type ? ' AND type = $type' : ''}`;
        return Number((await rows(sql, type ? { type } : {}))[0]?.n ?? 0);
      });
    },
    update(alert, expectedUpdatedAt) {
      return exclusive(async () => {
        const stored = await one('SELECT doc FROM alerts WHERE id = $id AND updated_at = $exp', { id: alert.id, exp: expectedUpdatedAt });
        if (!stored) return false;
        try {
          // Notifications belong to addNotifications: keep what is stored.
          await writeRow({ ...alert, notifications: stored.notifications });
        } catch (err) {
          if (/unique|duplicate key/i.test((err as Error).message)) {
            throw new AlertConflictError(`${alert.popCode}/${alert.functionName} already has an unresolved alert`, { cause: err });
          }
          throw err;
        }
        return true;
      });
    },
    addNotifications(id, outcomes: NotificationOutcome[]) {
      return exclusive(async () => {
        if (outcomes.length === 0) return;
        const stored = await one('SELECT doc FROM alerts WHERE id = $id', { id });
        if (!stored) return;
        const doc = JSON.stringify({ ...stored, notifications: [...stored.notifications, ...outcomes] });
        await conn.run('UPDATE alerts SET doc = $doc WHERE id = $id', { id, doc });
      });
    },
    async ping() {
      await exclusive(() => rows('SELECT 1 AS ok'));
    },
    close() {
      // One job on the queue: nothing runs while the connection closes, and every job
      // queued later finds the store closed (a statement on a closed connection is a
      // use-after-free in the native binding: SIGSEGV, not an error).
      closing ??= queue(async () => {
        await conn.run('CHECKPOINT').catch((err) =>
          opts.log?.warn({ err }, 'alert store checkpoint on close failed; the WAL replays at next start'),
        );
        closed = true;
        conn.closeSync();
        instance.closeSync();
      });
      return closing;
    },
  };
}

/** NULL (no constraint) once resolved. */
function keyOf(alert: Alert): string | null {
  return alert.status === 'resolved' ? null : unresolvedKey(alert.popCode, alert.functionName, alert.type);
}
