/**
 * The notifier: one channel per configured target (Slack, e-mail, webhook), run
 * in parallel and independently, each with its own bounded retries. A channel
 * that is down costs only its own retries: it never delays the others beyond
 * that and never throws. One outcome per channel comes back to be recorded on
 * the alert; the last outcome of each channel is kept for /health.
 */
import { inSpan } from '../telemetry/spans.ts';
import type { Alert, NotificationOutcome } from '@edgeworker/schema';
import type { Logger } from 'pino';
import type { NotifyConfig } from '../config.ts';
import type { NotifyChannel } from './channel.ts';
import { createEmailChannel } from './email.ts';
import { dashboardUrl } from './format.ts';
import type { NotificationEvent, Notifier } from './notifier.ts';
import { DEFAULT_RETRY, errorMessage, withRetry, type RetryPolicy } from './retry.ts';
import { createSlackChannel } from './slack.ts';
import { createWebhookChannel } from './webhook.ts';

export interface NotifierDeps {
  log: Logger;
  /** Dashboard base URL for links: PUBLIC_URL, else the server's own address (a function: it is known only after listen). */
  baseUrl: string | (() => string);
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  random?: () => number;
  /** Channels to use instead of the configured ones (tests of the dispatcher itself). */
  channels?: NotifyChannel[];
  /** Every delivery's outcome (after its retries), for /metrics. */
  onOutcome?: (outcome: NotificationOutcome) => void;
}

export interface ChannelNotifier extends Notifier {
  /** The last outcome per configured channel (undefined until it has sent something): /health shows it. */
  lastOutcomes(): Record<string, NotificationOutcome | undefined>;
}

export function channelsFromConfig(config: NotifyConfig): NotifyChannel[] {
  const channels: NotifyChannel[] = [];
  if (config.slackWebhookUrl) channels.push(createSlackChannel({ webhookUrl: config.slackWebhookUrl }));
  if (config.smtpUrl && config.emailTo.length > 0) {
    channels.push(createEmailChannel({ smtpUrl: config.smtpUrl, from: config.emailFrom, to: config.emailTo }));
  }
  if (config.webhookUrl) channels.push(createWebhookChannel({ url: config.webhookUrl }));
  return channels;
}

export function createNotifier(config: NotifyConfig, deps: NotifierDeps): ChannelNotifier {
  const channels = deps.channels ?? channelsFromConfig(config);
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) throw new Error(`retry.attempts must be an integer >= 1 (got ${policy.attempts})`);
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const stop = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const last = new Map<string, NotificationOutcome>();
  const baseUrl = typeof deps.baseUrl === 'function' ? deps.baseUrl : () => deps.baseUrl as string;

  async function deliver(channel: NotifyChannel, event: NotificationEvent, alert: Alert, link: string): Promise<NotificationOutcome> {
    return inSpan(`notify ${channel.name}`, { kind: 'client', attributes: { 'notify.channel': channel.name, 'notify.event': event, 'alert.id': alert.id } }, async (span) => {
    const started = now();
    // withRetry never throws; the catch guards against a channel that throws synchronously in a surprising way.
    const result = await withRetry((signal) => channel.send({ event, alert, dashboardUrl: link }, signal), policy, {
      stop: stop.signal,
      ...(deps.random ? { random: deps.random } : {}),
    }).catch((err: unknown) => ({ ok: false, attempts: 1, error: errorMessage(err) }));
    const outcome: NotificationOutcome = {
      channel: channel.name,
      event,
      ok: result.ok,
      at: new Date(now()).toISOString(),
      attempts: result.attempts,
      ...(result.ok ? {} : { error: result.error ?? 'failed' }),
    };
    last.set(channel.name, outcome);
    deps.onOutcome?.(outcome);
    const fields = { channel: channel.name, event, alertId: alert.id, attempts: result.attempts, ms: now() - started };
    if (result.ok) log.info(fields, 'notification sent');
    else log.warn({ ...fields, error: outcome.error }, `notification failed on ${channel.name}; the alert is unaffected, check the channel's URL or receiver`);
    span?.setAttribute('notify.attempts', result.attempts);
    if (!result.ok) span?.setStatus({ code: 2, message: outcome.error });
    return outcome;
    });
  }

  return {
    channels: channels.map((c) => c.name),

    async notify(event, alert) {
      if (channels.length === 0) return [];
      if (stop.signal.aborted) {
        const at = new Date(now()).toISOString();
        return channels.map((c) => ({ channel: c.name, event, ok: false, at, attempts: 0, error: 'notifier closed' }));
      }
      let link: string;
      try {
        link = dashboardUrl(baseUrl(), alert);
      } catch {
        link = dashboardUrl('http://localhost', alert);
      }
      // Each deliver() settles on its own and never rejects, so all() waits only as long as the slowest channel's bounded retries.
      const run = Promise.all(channels.map((c) => deliver(c, event, alert, link)));
      inFlight.add(run);
      try {
        return await run;
      } finally {
        inFlight.delete(run);
      }
    },

    lastOutcomes() {
      return Object.fromEntries(channels.map((c) => [c.name, last.get(c.name)]));
    },

    async close() {
      // Cut waiting backoffs and running attempts short, let them record their outcome, then close transports.
      stop.abort();
      await Promise.allSettled([...inFlight]);
      for (const c of channels) {
        try {
          await c.close?.();
        } catch (err) {
          log.warn({ err, channel: c.name }, 'closing a notification channel failed');
        }
      }
    },
  };
}
