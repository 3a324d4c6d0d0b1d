/**
 * What a detector under test writes its alerts to: an alert service on an in-memory embedded
 * store, with no notification channels, closed after the test. Shared by the detector's
 * service-level tests (snapshot, late data), each of which runs one or more such replicas.
 */
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { createAlertService } from '../alerts/alert-service.ts';
import { createLocalBus } from '../events.ts';
import { createEmbeddedAlertStore } from '../stores/embedded/embedded-alert-store.ts';

const noChannels = { channels: [], notify: async () => [], close: async () => {} };

export async function memoryAlerts(t: TestContext, now: () => number): Promise<ReturnType<typeof createAlertService>> {
  const alertStore = await createEmbeddedAlertStore({ path: ':memory:' });
  const alerts = createAlertService({ store: alertStore, bus: createLocalBus(), notifier: noChannels, now, log: pino({ level: 'silent' }) });
  t.after(async () => {
    await alerts.close(1000);
    await alertStore.close();
  });
  return alerts;
}
