/**
 * Retention per resolution on InfluxDB: the rollup measurements live in their own
 * retention policies (rollup-agg.ts RP_1M, RP_1H), so 1 min rows can go after a week
 * while hours stay for 90 days, whatever the raw samples' (the database's default
 * policy, which belongs to whoever runs InfluxDB) is. The keeper makes them match
 * RETENTION_1M and RETENTION_1H before its first pass: created when missing, their
 * duration changed when the setting changed. That takes admin rights on 1.x; without
 * them the error says which statements to run once, and until then the keeper keeps
 * nothing and every answer is raw (exact, only slower).
 */
import { InfluxError, quoteIdent, type InfluxClient } from './influx-client.ts';
import { RP_1H, RP_1M } from './rollup-agg.ts';

export interface RollupRetention {
  /** RETENTION_1M: the 1 min and 10 min levels (and the keeper's state); 0 keeps everything. */
  retention1mMs: number;
  /** RETENTION_1H: the 1 h level; 0 keeps everything. */
  retention1hMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A Go duration as SHOW RETENTION POLICIES prints it ("168h0m0s"; "0s" is INF) in ms. */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = { h: HOUR, m: 60_000, s: 1000, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
  let ms = 0;
  for (const [, n, u] of text.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)) ms += Number(n) * units[u!]!;
  return Math.round(ms);
}

/** InfluxDB's own default shard group length for a duration (shorter groups drop closer to the limit). */
function shardDuration(ms: number): string {
  if (ms === 0 || ms > 180 * DAY) return '7d';
  return ms < 2 * DAY ? '1h' : '1d';
}

const durationOf = (ms: number) => (ms === 0 ? 'INF' : `${ms}ms`);

/** The statements that make one policy as wanted (also what the error tells an operator to run). */
export function policyStatements(db: string, spec: RollupRetention): Array<{ name: string; ms: number; create: string; alter: string }> {
  return [
    [RP_1M, spec.retention1mMs],
    [RP_1H, spec.retention1hMs],
  ].map(([name, ms]) => {
    const rest = `ON ${quoteIdent(db)} DURATION ${durationOf(ms as number)} REPLICATION 1 SHARD DURATION ${shardDuration(ms as number)}`;
    return { name: name as string, ms: ms as number, create: `CREATE RETENTION POLICY ${quoteIdent(name as string)} ${rest}`, alter: `ALTER RETENTION POLICY ${quoteIdent(name as string)} ${rest}` };
  });
}

/** Creates or alters the rollups' retention policies; returns their durations (ms). Throws an InfluxError that says what to do. */
export async function ensureRollupRetention(client: InfluxClient, db: string, spec: RollupRetention): Promise<Record<string, number>> {
  const wanted = policyStatements(db, spec);
  try {
    const [rps] = await client.query([`SHOW RETENTION POLICIES ON ${quoteIdent(db)}`]);
    const s = rps?.[0];
    const have = new Map<string, number>();
    for (const row of s?.values ?? []) have.set(String(row[s!.columns.indexOf('name')]), parseGoDuration(String(row[s!.columns.indexOf('duration')])));
    for (const w of wanted) {
      if (!have.has(w.name)) await client.query([w.create]);
      else if (have.get(w.name) !== w.ms) await client.query([w.alter]);
    }
  } catch (err) {
    const e = err as InfluxError;
    const fix = wanted.map((w) => `${w.create};`).join(' ');
    throw new InfluxError(
      e.kind ?? 'query',
      `cannot set up the rollups' retention policies (${e.message}). The InfluxDB user needs admin rights for that; or run once, as an admin: ${fix} (ALTER instead of CREATE if they exist). Until then long windows are answered from raw samples.`,
      { cause: err },
    );
  }
  return Object.fromEntries(wanted.map((w) => [w.name, w.ms]));
}
