/**
 * Alert store on MongoDB (official driver), for running several servers against
 * one shared alert history. Indexes are created at start:
 * - unique on `unresolvedKey`, partial (only documents that have it): at most one
 *   open or acknowledged alert per (POP, function), enforced by the server;
 * - {status, createdAt, _id}, {popCode, createdAt, _id}, {functionName, createdAt, _id}
 *   and {createdAt, _id}: the list filters, newest first.
 * An unreachable server fails start-up within `serverSelectionTimeoutMs` with a
 * message naming the (redacted) URL and what to check.
 */
import { MongoClient, MongoServerError, type Collection, type Filter } from 'mongodb';
import type { Logger } from 'pino';
import { redact } from '../../config.ts';
import { AlertConflictError, type AlertPage, type AlertQuery, type AlertStore } from '../alert-store.ts';
import { decodeCursor, encodeCursor, pageSize, unresolvedKey } from '../alert-cursor.ts';
import { fromDocument, replacementUpdate, toDocument, type AlertDocument } from './documents.ts';

export interface MongoAlertStoreOptions {
  url: string;
  /** Defaults to the database named in the URL, else `edgeworker`. */
  dbName?: string;
  collection?: string;
  /** How long to look for a usable server before an operation fails. */
  serverSelectionTimeoutMs?: number;
  log?: Logger;
}

const DUPLICATE_KEY = 11000;

export async function createMongoAlertStore(opts: MongoAlertStoreOptions): Promise<AlertStore> {
  const where = redact(opts.url);
  let client: MongoClient;
  try {
    client = new MongoClient(opts.url, {
      serverSelectionTimeoutMS: opts.serverSelectionTimeoutMs ?? 5000,
      appName: 'edgeworker-monitor',
      ignoreUndefined: true,
    });
  } catch (err) {
    throw new Error(`MONGODB_URL=${where} is not a usable MongoDB connection string: ${(err as Error).message}`, { cause: err });
  }
  const dbName = opts.dbName ?? (client.options.dbName && client.options.dbName !== 'test' ? client.options.dbName : 'edgeworker');
  const alerts: Collection<AlertDocument> = client.db(dbName).collection<AlertDocument>(opts.collection ?? 'alerts');
  try {
    await client.connect();
    await createIndexes(alerts);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(
      `cannot use the MongoDB alert store at ${where} (database ${dbName}): ${(err as Error).message}` +
        ' (check that MongoDB is running and reachable, and MONGODB_URL, or set ALERT_STORE=embedded)',
      { cause: err },
    );
  }
  opts.log?.info({ url: where, db: dbName }, 'MongoDB alert store ready');

  const filterOf = (q: AlertQuery): Filter<AlertDocument> => {
    const f: Filter<AlertDocument> = {};
    if (q.status) f.status = q.status;
    if (q.type) f.type = q.type;
    if (q.popCode) f.popCode = q.popCode;
    if (q.functionName) f.functionName = q.functionName;
    return f;
  };
  const newestFirst = { createdAt: -1, _id: -1 } as const;

  return {
    kind: 'mongodb',
    async create(alert) {
      try {
        await alerts.insertOne(toDocument(alert));
      } catch (err) {
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) {
          throw new AlertConflictError(
            `${alert.popCode}/${alert.functionName} already has an unresolved alert (or id ${alert.id} is taken)`,
            { cause: err },
          );
        }
        throw err;
      }
    },
    async get(id) {
      const doc = await alerts.findOne({ _id: id });
      return doc ? fromDocument(doc) : null;
    },
    async findUnresolved(popCode, functionName, type = 'regression') {
      const doc = await alerts.findOne({ unresolvedKey: unresolvedKey(popCode, functionName, type) });
      return doc ? fromDocument(doc) : null;
    },
    async listUnresolved() {
      const docs = await alerts.find({ unresolvedKey: { $exists: true } }).sort(newestFirst).toArray();
      return docs.map(fromDocument);
    },
    async list(q): Promise<AlertPage> {
      const limit = pageSize(q.limit);
      const filter = filterOf(q);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      const pageFilter: Filter<AlertDocument> = after
        ? { ...filter, $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }] }
        : filter;
      const [docs, total] = await Promise.all([
        alerts.find(pageFilter).sort(newestFirst).limit(limit + 1).toArray(),
        alerts.countDocuments(filter),
      ]);
      const page = docs.slice(0, limit).map(fromDocument);
      const last = page[page.length - 1];
      return { alerts: page, total, next: docs.length > limit && last ? encodeCursor(last) : null };
    },
    async countUnresolved(type) {
      return alerts.countDocuments({ unresolvedKey: { $exists: true }, ...(type ? { type } : {}) });
    },
    async update(alert, expectedUpdatedAt) {
      try {
        const r = await alerts.updateOne({ _id: alert.id, updatedAt: expectedUpdatedAt }, replacementUpdate(alert));
        return r.matchedCount === 1;
      } catch (err) {
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) {
          throw new AlertConflictError(`${alert.popCode}/${alert.functionName} already has an unresolved alert`, { cause: err });
        }
        throw err;
      }
    },
    async addNotifications(id, outcomes) {
      if (outcomes.length === 0) return;
      await alerts.updateOne({ _id: id }, { $push: { notifications: { $each: outcomes } } });
    },
    async ping() {
      await client.db(dbName).command({ ping: 1 });
    },
    async close() {
      await client.close();
    },
  };
}

async function createIndexes(alerts: Collection<AlertDocument>) {
  await alerts.createIndexes([
    {
      key: { unresolvedKey: 1 },
      name: 'one_unresolved_per_pop_function',
      unique: true,
      partialFilterExpression: { unresolvedKey: { $exists: true } },
    },
    { key: { createdAt: -1, _id: -1 }, name: 'newest_first' },
    { key: { status: 1, createdAt: -1, _id: -1 }, name: 'by_status' },
    { key: { popCode: 1, createdAt: -1, _id: -1 }, name: 'by_pop' },
    { key: { functionName: 1, createdAt: -1, _id: -1 }, name: 'by_function' },
  ]);
}
