/**
 * Generic JSON webhook: POSTs `{event, alert, dashboardUrl}` so any receiver
 * (PagerDuty bridge, chat bot, ticketing) can act on opened and resolved alerts.
 * 2xx is delivered; 4xx other than 408/429 is permanent; the rest is retried.
 */
import type { NotifyChannel } from './channel.ts';
import { postJson } from './post-json.ts';

export function createWebhookChannel(opts: { url: string }): NotifyChannel {
  return {
    name: 'webhook',
    send: ({ event, alert, dashboardUrl }, signal) => postJson(opts.url, { event, alert, dashboardUrl }, signal),
  };
}
