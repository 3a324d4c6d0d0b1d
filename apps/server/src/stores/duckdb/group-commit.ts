/**
 * Group commit: while one transaction runs, the writes that arrive queue up and go
 * into the next transaction together, and each caller resolves once that transaction
 * has committed. A commit (and its fsync) costs about the same for one request as for
 * ten, so concurrent writers share it instead of waiting for one each.
 *
 * All or nothing stays per caller: when a group fails, each of its writes is tried
 * again alone, so one bad batch fails only its own request.
 */
export interface GroupCommitOptions<T> {
  /** Size of one item (rows), to bound a group. */
  sizeOf: (item: T) => number;
  /** A group stops growing once it holds this many rows (one item may exceed it alone). */
  maxGroupSize: number;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createGroupCommit<T>(commit: (items: readonly T[]) => Promise<void>, opts: GroupCommitOptions<T>) {
  const queue: Pending<T>[] = [];
  let running = false;

  function takeGroup(): Pending<T>[] {
    let size = 0;
    let n = 0;
    while (n < queue.length) {
      const s = opts.sizeOf(queue[n]!.item);
      if (n > 0 && size + s > opts.maxGroupSize) break;
      size += s;
      n++;
    }
    return queue.splice(0, n);
  }

  async function drain() {
    running = true;
    try {
      while (queue.length > 0) {
        const group = takeGroup();
        try {
          await commit(group.map((p) => p.item));
          for (const p of group) p.resolve();
        } catch (err) {
          if (group.length === 1) {
            group[0]!.reject(err);
            continue;
          }
          for (const p of group) {
            await commit([p.item]).then(p.resolve, p.reject);
          }
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    /** Resolves once the item is committed (in a group or alone); rejects with its own failure. */
    submit(item: T): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!running) void drain();
      });
    },
  };
}
