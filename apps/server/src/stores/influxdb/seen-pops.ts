/**
 * The POPs the data has mentioned, kept where it is cheap (issue 15, H3). The old
 * way, `last(latitude)` grouped by four tags over all time, costs per series: 7.2 s
 * at 100k POPs on influxd 1.6, past the query timeout, so heatmap and overview
 * stayed 503. Now:
 * - our own writes update the catalog directly (the samples carry the metadata);
 * - data written by others (the watermark moved) is found through
 *   `SHOW TAG VALUES … pop_code` (the index only: 0.2 s at 100k POPs), and only the
 *   POPs not known yet are read, by name, in small batches;
 * - the one full read (at start, and now and then to pick up metadata that other
 *   writers changed) runs in the background with its own long timeout.
 * No request waits for more than `waitMs`: until the catalog is loaded, answers
 * list the catalog's POPs only, never a 503.
 */
import { FIELD, MEASUREMENT, TAG, type ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import type { SeenPop } from '../metrics-store.ts';
import { quoteIdent, quoteString, type InfluxClient, type InfluxSeries } from './influx-client.ts';

export interface SeenPopsOptions {
  /** For the background reads: a timeout long enough for a full read. */
  client: InfluxClient;
  now: () => number;
  /** Longest a caller waits for a refresh in flight before it gets the list as it is. */
  waitMs: number;
  /** A full read this often, for metadata other writers changed (0: only at start). */
  fullReloadMs: number;
  log?: Logger | undefined;
}

const M = quoteIdent(MEASUREMENT);
const TAGS = [TAG.popCode, TAG.city, TAG.country, TAG.tier].map(quoteIdent).join(', ');
const BATCH = 200;

function lastBy(field: string, where = '') {
  return `SELECT last(${quoteIdent(field)}) AS v FROM ${M}${where ? ` WHERE ${where}` : ''} GROUP BY ${TAGS}`;
}

export function createSeenPops(opts: SeenPopsOptions) {
  const known = new Map<string, SeenPop>();
  let loaded = false;
  let dirty = false;
  let lastFullAt = 0;
  let inFlight: Promise<void> | undefined;

  function offer(p: SeenPop) {
    const prev = known.get(p.popCode);
    if (!prev || prev.lastSeenNs <= p.lastSeenNs) known.set(p.popCode, p);
  }

  function absorb(lat: InfluxSeries[] | undefined, lon: InfluxSeries[] | undefined) {
    const lonOf = new Map((lon ?? []).map((s) => [JSON.stringify(s.tags), s.values[0]?.[1]]));
    for (const s of lat ?? []) {
      const tags = s.tags ?? {};
      const row = s.values[0];
      const la = row?.[1];
      const lo = lonOf.get(JSON.stringify(s.tags));
      const code = tags[TAG.popCode];
      if (!code || typeof la !== 'number' || typeof lo !== 'number') continue;
      offer({ popCode: code, city: tags[TAG.city] ?? '', country: tags[TAG.country] ?? '', tier: tags[TAG.tier] ?? '', lat: la, lon: lo, lastSeenNs: BigInt(Math.round(Number(row?.[0] ?? 0))) * 1_000_000n });
    }
  }

  async function full() {
    const [lat, lon] = await opts.client.query([lastBy(FIELD.latitude), lastBy(FIELD.longitude)]);
    absorb(lat, lon);
    loaded = true;
    lastFullAt = opts.now();
  }

  /** POPs in the index we do not know yet, read by name. */
  async function newOnes() {
    const [res] = await opts.client.query([`SHOW TAG VALUES FROM ${M} WITH KEY = ${quoteIdent(TAG.popCode)}`]);
    const codes: string[] = [];
    for (const s of res ?? []) for (const row of s.values) if (typeof row[1] === 'string' && !known.has(row[1])) codes.push(row[1]);
    for (let i = 0; i < codes.length; i += BATCH) {
      const where = codes.slice(i, i + BATCH).map((c) => `${quoteIdent(TAG.popCode)} = ${quoteString(c)}`).join(' OR ');
      const [lat, lon] = await opts.client.query([lastBy(FIELD.latitude, where), lastBy(FIELD.longitude, where)]);
      absorb(lat, lon);
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= (async () => {
      try {
        dirty = false;
        if (!loaded) await full();
        else await newOnes();
      } catch (err) {
        dirty = true;
        opts.log?.warn({ err: (err as Error).message }, 'cannot read the POPs seen in InfluxDB; answers list the catalog and the POPs known so far');
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  return {
    /** The samples of our own write: their POPs and metadata, at once. */
    noteWritten(samples: readonly ColdStartSample[]) {
      for (const s of samples) {
        offer({ popCode: s.popCode, city: s.city, country: s.country, tier: s.tier, lat: s.latitude, lon: s.longitude, lastSeenNs: s.timeNs });
      }
    },
    /** Someone else wrote: look for POPs we do not know on the next call. */
    markDirty() {
      dirty = true;
    },
    async list(): Promise<SeenPop[]> {
      if (loaded && !dirty && opts.fullReloadMs > 0 && opts.now() - lastFullAt > opts.fullReloadMs && !inFlight) {
        inFlight = full()
          .catch((err) => opts.log?.warn({ err: (err as Error).message }, 'periodic read of the seen POPs failed'))
          .finally(() => (inFlight = undefined));
      }
      if (!loaded || dirty) {
        const r = refresh();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([r, new Promise<void>((res) => (timer = setTimeout(res, opts.waitMs)))]);
        clearTimeout(timer);
      }
      return [...known.values()].sort((a, b) => a.popCode.localeCompare(b.popCode));
    },
  };
}
