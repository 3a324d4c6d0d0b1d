import type { ConnectionState } from '../hooks/useLiveOverview';

const LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Polling (offline)',
};

const HINT: Record<ConnectionState, string> = {
  connecting: 'Opening the live connection',
  live: 'Live over WebSocket: updates arrive as data lands',
  reconnecting: 'The live connection dropped; retrying with backoff',
  polling: 'The live connection is down; refreshing over HTTP every 5 s while retrying',
};

interface Props {
  state: ConnectionState;
  nextRetryAt: number | null;
  now: number;
  error: string | null;
}

/** Connection state as text with a glyph, never colour alone; announced politely on change. */
export function ConnectionBadge({ state, nextRetryAt, now, error }: Props) {
  const retryIn =
    state !== 'live' && nextRetryAt !== null ? Math.max(0, Math.ceil((nextRetryAt - now) / 1000)) : null;
  const title = [HINT[state], retryIn !== null ? `next retry in ${retryIn} s` : null, error]
    .filter(Boolean)
    .join(' · ');
  return (
    <span className={`conn conn-${state}`} data-connection={state} title={title}>
      <span className="conn-dot" aria-hidden="true" />
      <span role="status" aria-live="polite">
        {LABEL[state]}
      </span>
      {retryIn !== null && state !== 'connecting' && (
        <span className="conn-retry"> · retry in {retryIn} s</span>
      )}
    </span>
  );
}
