/**
 * The notifier port: tells people that an alert opened or resolved, on every
 * configured channel (Slack, e-mail, generic webhook). Implementations retry each
 * channel with backoff, run channels independently (one down channel never blocks
 * another) and never throw: each channel's outcome comes back to be recorded on the alert.
 */
import type { Alert, NotificationOutcome } from '@edgeworker/schema';

export type NotificationEvent = 'opened' | 'resolved';

export interface Notifier {
  /** Names of the configured channels (empty when none is configured). */
  readonly channels: readonly string[];
  notify(event: NotificationEvent, alert: Alert): Promise<NotificationOutcome[]>;
  close(): Promise<void>;
}
