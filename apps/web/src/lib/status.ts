import type { PopStatus } from '@edgeworker/schema';

/** Draw order on the map and ranking in lists: worse statuses come later (drawn on top). */
export const STATUS_ORDER: readonly PopStatus[] = ['no_data', 'healthy', 'warning', 'critical'];

export const STATUS_LABEL: Record<PopStatus, string> = {
  healthy: 'Healthy',
  warning: 'Warning',
  critical: 'Critical',
  no_data: 'No data',
};

/** A text glyph per status so tables never tell status by colour alone. */
export const STATUS_GLYPH: Record<PopStatus, string> = {
  healthy: '●',
  warning: '▲',
  critical: '◆',
  no_data: '○',
};

export function isPopStatus(v: unknown): v is PopStatus {
  return v === 'healthy' || v === 'warning' || v === 'critical' || v === 'no_data';
}

/** Unknown values (a newer server) are shown as no data rather than crashing. */
export function safeStatus(v: unknown): PopStatus {
  return isPopStatus(v) ? v : 'no_data';
}
