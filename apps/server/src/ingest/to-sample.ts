/**
 * Turns one parsed line-protocol point into a cold-start sample, or says why it
 * cannot be one. Tags and fields beyond the seed's data model are ignored (agents
 * such as Telegraf add a `host` tag to everything); missing metadata of a catalog
 * POP is filled from the catalog; a POP the catalog does not know must bring its
 * coordinates, or it could not be placed on the map.
 */
import type { FieldValue, ParsedPoint } from '@edgeworker/line-protocol';
import { FIELD, MEASUREMENT, TAG, type ColdStartSample } from '@edgeworker/schema';

export interface KnownPop {
  city: string;
  country: string;
  tier: string;
  lat: number;
  lon: number;
}

const MAX_TAG_LENGTH = 128;
/**
 * Largest cold start accepted, in ms (a day). Anything above is a unit mistake (ns or µs
 * sent as ms) or garbage, and line protocol allows floats up to 1.8e308: two of those
 * overflowed a window's sum to Infinity, which made every client's averageColdStart null.
 */
export const MAX_COLD_START_MS = 86_400_000;
/** The parser shares one frozen tags object among the points of a series: check each once. */
const tagsWithinLimits = new WeakSet<object>();

function numeric(v: FieldValue | undefined): number | undefined {
  if (!v) return undefined;
  if (v.type === 'float') return v.value;
  if (v.type === 'integer' || v.type === 'unsigned') return Number(v.value);
  return undefined;
}

export function toSample(
  p: ParsedPoint,
  lookupPop: (code: string) => KnownPop | undefined,
): { sample: ColdStartSample } | { error: string; code: string } {
  if (p.measurement !== MEASUREMENT) {
    return { code: 'unsupported_measurement', error: `measurement "${p.measurement}" is not accepted here; write ${MEASUREMENT}` };
  }
  const popCode = p.tags[TAG.popCode];
  const functionName = p.tags[TAG.functionName];
  if (!popCode) return { code: 'missing_tag', error: `tag ${TAG.popCode} is required` };
  if (!functionName) return { code: 'missing_tag', error: `tag ${TAG.functionName} is required` };
  if (!tagsWithinLimits.has(p.tags)) {
    for (const [k, v] of Object.entries(p.tags)) {
      if (v.length > MAX_TAG_LENGTH) return { code: 'invalid_tag', error: `tag ${k} is longer than ${MAX_TAG_LENGTH} characters` };
    }
    tagsWithinLimits.add(p.tags);
  }

  const raw = p.fields[FIELD.coldStartTimeMs];
  const ms = numeric(raw);
  if (raw === undefined) return { code: 'missing_field', error: `field ${FIELD.coldStartTimeMs} is required` };
  if (ms === undefined) return { code: 'invalid_field', error: `field ${FIELD.coldStartTimeMs} must be a number, got a ${raw.type}` };
  if (!(ms >= 0)) return { code: 'invalid_field', error: `field ${FIELD.coldStartTimeMs} must be >= 0, got ${ms}` };
  if (ms > MAX_COLD_START_MS) {
    return { code: 'invalid_field', error: `field ${FIELD.coldStartTimeMs} must be at most ${MAX_COLD_START_MS} (a day, in ms), got ${ms}; was it sent in µs or ns?` };
  }

  const known = lookupPop(popCode);
  const latField = p.fields[FIELD.latitude];
  const lonField = p.fields[FIELD.longitude];
  // A coordinate that is there but not a number is named as such (it was reported as missing).
  for (const [name, f] of [[FIELD.latitude, latField], [FIELD.longitude, lonField]] as const) {
    if (f && numeric(f) === undefined) return { code: 'invalid_field', error: `field ${name} must be a number, got a ${f.type}` };
  }
  const lat = latField ? numeric(latField) : known?.lat;
  const lon = lonField ? numeric(lonField) : known?.lon;
  if (lat === undefined || lon === undefined) {
    return {
      code: 'missing_field',
      error: `POP ${popCode} is not in the catalog: fields ${FIELD.latitude} and ${FIELD.longitude} are required to place it`,
    };
  }
  if (!(lat >= -90 && lat <= 90)) return { code: 'invalid_field', error: `field ${FIELD.latitude} must be within [-90, 90], got ${lat}` };
  if (!(lon >= -180 && lon <= 180)) return { code: 'invalid_field', error: `field ${FIELD.longitude} must be within [-180, 180], got ${lon}` };

  return {
    sample: {
      timeNs: p.timeNs,
      popCode,
      functionName,
      city: p.tags[TAG.city] ?? known?.city ?? popCode,
      country: p.tags[TAG.country] ?? known?.country ?? '',
      tier: p.tags[TAG.tier] ?? known?.tier ?? 'unknown',
      coldStartTimeMs: ms,
      latitude: lat,
      longitude: lon,
    },
  };
}
