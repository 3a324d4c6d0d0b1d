/**
 * Leadership: which replica runs the detector's passes. A single process is always
 * the leader; with Redis, a lock with expiry and a fencing token decides.
 */
export interface LeaderState {
  leader: boolean;
  /** Fencing token of this replica's current term (increases with every new holder). */
  fence: number | null;
  /** Replica id of the current holder when known. */
  holder: string | null;
}

export interface Leadership {
  readonly kind: 'single' | 'redis';
  /** This replica's id (host:pid:random). */
  readonly replicaId: string;
  /**
   * Runs `fn` only while this replica holds the lock; returns `{ ran: false }` otherwise.
   * `stillLeader(fence)` lets the work check, before it commits, that no other replica
   * took over meanwhile.
   */
  runAsLeader<T>(fn: (fence: number) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false; holder: string | null }>;
  stillLeader(fence: number): Promise<boolean>;
  state(): LeaderState;
  close(): Promise<void>;
}

export function createSingleLeadership(replicaId: string): Leadership {
  return {
    kind: 'single',
    replicaId,
    async runAsLeader(fn) {
      return { ran: true, value: await fn(1) };
    },
    async stillLeader() {
      return true;
    },
    state: () => ({ leader: true, fence: 1, holder: replicaId }),
    async close() {},
  };
}
