/**
 * The AlertStore contract against a real MongoDB. MongoDB cannot be installed on
 * the build machine, so this runs wherever MONGODB_URL is set (e.g.
 * MONGODB_URL=mongodb://127.0.0.1:27017 npm run test:services); each store gets
 * its own database, dropped afterwards. Without MONGODB_URL the suite is
 * reported as skipped with that reason, never as passed.
 */
import { after, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { alertStoreContract } from '../alert-store.contract.ts';
import { createMongoAlertStore } from './mongodb-alert-store.ts';

// The one place tests read the environment: whether a MongoDB is available.
const url = process.env.MONGODB_URL;

if (!url) {
  it('AlertStore contract: mongodb', { skip: 'MONGODB_URL is not set: MongoDB cannot run on this machine, so the MongoDB contract did NOT run' }, () => {});
} else {
  const dbs: string[] = [];
  after(async () => {
    const client = await MongoClient.connect(url, { serverSelectionTimeoutMS: 5000 });
    try {
      for (const db of dbs.splice(0)) await client.db(db).dropDatabase();
    } finally {
      await client.close();
    }
  });
  alertStoreContract('mongodb', async () => {
    const dbName = `ewm_test_${randomUUID().replace(/-/g, '')}`;
    dbs.push(dbName);
    return {
      store: await createMongoAlertStore({ url, dbName }),
      reopen: () => createMongoAlertStore({ url, dbName }),
    };
  });
}
