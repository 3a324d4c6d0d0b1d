/**
 * One notification channel (Slack, e-mail, webhook): sends one message per call
 * and throws on failure. Retries, time limits and isolation from the other
 * channels are the notifier's job (create-notifier.ts), not the channel's.
 */
import type { Alert } from '@edgeworker/schema';
import type { NotificationEvent } from './notifier.ts';

export interface NotifyMessage {
  event: NotificationEvent;
  alert: Alert;
  /** The dashboard filtered to the alert's POP and function. */
  dashboardUrl: string;
}

export interface NotifyChannel {
  /** Recorded on the alert's outcomes: `slack`, `email` or `webhook`. */
  readonly name: string;
  /**
   * Delivers the message once. Throws PermanentError when another attempt cannot
   * help, any other error when it might. Stops early when `signal` aborts.
   */
  send(message: NotifyMessage, signal: AbortSignal): Promise<void>;
  close?(): Promise<void> | void;
}
