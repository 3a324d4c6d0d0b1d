import type { ConnectionState } from '../hooks/useLiveOverview';

const LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  stale: 'Stale',
  full: 'Server full',
  reconnecting: 'Reconnecting…',
  polling: 'Polling (offline)',
};

const HINT: Record<ConnectionState, string> = {
  connecting: 'Opening the live connection',
  live: 'Live over WebSocket: updates arrive as data lands',
  stale:
    'The server sent nothing, not even its heartbeat, for three heartbeat intervals: it is stopped, hung or unreachable. The numbers on screen are from before; reconnecting with backoff',
  full: 'The server already holds as many live connections as it takes (WS_MAX_CLIENTS) and refused this one; refreshing over HTTP every 5 s while retrying with backoff',
  reconnecting: 'The live connection dropped; retrying with backoff',
  polling: 'The live connection is down; refreshing over HTTP every 5 s while retrying',
};

interface Props {
  state: ConnectionState;
  nextRetryAt: number | null;
  now: number;
  error: string | null;
  /** While stale: when the server's last message arrived (client clock). */
  silentSince?: number | null;
}

/**
 * Connection state as text with a glyph, never colour alone; the state's name is announced
 * politely on change, the ticking counts beside it are not.
 */
export function ConnectionBadge({ state, nextRetryAt, now, error, silentSince = null }: Props) {
  const retryIn =
    state !== 'live' && nextRetryAt !== null ? Math.max(0, Math.ceil((nextRetryAt - now) / 1000)) : null;
  const silentFor = state === 'stale' && silentSince !== null ? Math.max(0, Math.floor((now - silentSince) / 1000)) : null;
  const title = [HINT[state], retryIn !== null ? `next retry in ${retryIn} s` : null, error]
    .filter(Boolean)
    .join(' · ');
  return (
    <span className={`conn conn-${state}`} data-connection={state} title={title}>
      <span className="conn-dot" aria-hidden="true" />
      <span role="status" aria-live="polite">
        {LABEL[state]}
      </span>
      {silentFor !== null && (
        <span className="conn-silent" data-testid="conn-silent">
          {' '}
          — no data from the server for {silentFor} s
        </span>
      )}
      {retryIn !== null && state !== 'connecting' && (
        <span className="conn-retry"> · retry in {retryIn} s</span>
      )}
    </span>
  );
}
