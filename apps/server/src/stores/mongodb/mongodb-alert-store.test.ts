/** The parts of the MongoDB adapter that need no server: document mapping, cursors, connection errors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeAlert } from '../alert-store.contract.ts';
import { decodeCursor, encodeCursor, InvalidCursorError, pageSize, unresolvedKey } from '../alert-cursor.ts';
import { freePort } from '../../testing/free-port.ts';
import { fromDocument, replacementUpdate, toDocument } from './documents.ts';
import { createMongoAlertStore } from './mongodb-alert-store.ts';

describe('MongoDB alert documents', () => {
  it('maps an open alert to a document with _id and the unresolved key, and back unchanged', () => {
    const a = makeAlert({ popCode: 'FRA', functionName: 'ssr-render' });
    const doc = toDocument(a);
    assert.equal(doc._id, a.id);
    assert.equal('id' in doc, false);
    assert.equal(doc.unresolvedKey, unresolvedKey('FRA', 'ssr-render'));
    assert.deepEqual(fromDocument(doc), a);
  });

  it('gives a resolved alert no unresolved key, and keeps its optional fields', () => {
    const a = makeAlert({
      status: 'resolved', acknowledgedAt: '2026-11-26T12:00:01.000Z', resolvedAt: '2026-11-26T12:00:02.000Z', resolvedBy: 'operator',
      notifications: [{ channel: 'slack', event: 'opened', ok: false, at: '2026-11-26T12:00:00.500Z', attempts: 3, error: 'HTTP 500' }],
    });
    const doc = toDocument(a);
    assert.equal('unresolvedKey' in doc, false);
    assert.deepEqual(fromDocument(doc), a);
  });

  it('drops nulls a document may carry (older writers) instead of leaking them into the API', () => {
    const doc = { ...toDocument(makeAlert()), resolvedAt: null } as unknown as ReturnType<typeof toDocument>;
    assert.equal('resolvedAt' in fromDocument(doc), false);
  });

  it('replaces state with $set and removes what the new state lacks with $unset, never touching notifications', () => {
    const resolved = makeAlert({ status: 'resolved', resolvedAt: '2026-11-26T13:00:00.000Z', resolvedBy: 'detector' });
    const u = replacementUpdate(resolved);
    assert.equal('notifications' in u.$set, false);
    assert.equal('_id' in u.$set, false);
    assert.equal(u.$set.status, 'resolved');
    assert.deepEqual(u.$unset, { acknowledgedAt: '', lastSeenAt: '', silentSeries: '', unresolvedKey: '' });
    const open = replacementUpdate(makeAlert({ popCode: 'AMS' }));
    assert.equal(open.$set.unresolvedKey, unresolvedKey('AMS', 'ssr-render'));
    assert.deepEqual(open.$unset, { acknowledgedAt: '', resolvedAt: '', resolvedBy: '', lastSeenAt: '', silentSeries: '' });
  });
});

describe('alert cursors', () => {
  it('round-trips a position and is opaque URL-safe text', () => {
    const c = encodeCursor({ createdAt: '2026-11-26T12:00:00.000Z', id: 'a/b+c' });
    assert.match(c, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(c), { createdAt: '2026-11-26T12:00:00.000Z', id: 'a/b+c' });
  });

  it('refuses cursors it did not issue', () => {
    for (const bad of ['', 'abc', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["not a time","x"]').toString('base64url')]) {
      assert.throws(() => decodeCursor(bad), InvalidCursorError, bad);
    }
  });

  it('keeps page sizes within 1..500 with 50 by default', () => {
    assert.deepEqual([pageSize(undefined), pageSize(0), pageSize(7.9), pageSize(10_000)], [50, 1, 7, 500]);
  });
});

describe('MongoDB alert store without a server', () => {
  it('fails start-up within the server selection timeout with a message naming the URL, not the password', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(
      createMongoAlertStore({ url: `mongodb://monitor:s3cret@127.0.0.1:${port}/ewm`, serverSelectionTimeoutMs: 300 }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`cannot use the MongoDB alert store at mongodb://monitor:\\*\\*\\*@127\\.0\\.0\\.1:${port}/ewm \\(database ewm\\)`));
        assert.match(err.message, /ALERT_STORE=embedded/);
        assert.doesNotMatch(err.message, /s3cret/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5000, 'bounded by serverSelectionTimeoutMs');
  });

  it('refuses a malformed connection string clearly', async () => {
    await assert.rejects(createMongoAlertStore({ url: 'mongodb://' }), /not a usable MongoDB connection string/);
  });
});
