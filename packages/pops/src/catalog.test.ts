import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POPS, findPop, TIER_FACTOR, TIERS, FUNCTIONS, type PopInfo, type Tier } from './index.ts';

type Continent = 'AF' | 'AN' | 'AS' | 'EU' | 'NA' | 'OC' | 'SA';

// Every ISO 3166-1 alpha-2 code (249), grouped by a coarse continent.
// Transcontinental countries use their usual grouping (RU → EU, TR/CY/GE/AM/AZ/KZ → AS).
const ISO_BY_CONTINENT: Record<Continent, string> = {
  AF:
    'DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG ' +
    'MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW',
  AN: 'AQ BV GS HM TF',
  AS:
    'AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JO JP KZ KW KG LA LB MO MY MV MN MM NP ' +
    'KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE IO CX CC',
  EU:
    'AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE LV LI LT LU MT ' +
    'MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA',
  NA:
    'AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR ' +
    'BL KN LC MF PM VC SX TT TC US VI UM',
  OC: 'AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF',
  SA: 'AR BO BR CL CO EC FK GF GY PY PE SR UY VE',
};

const CONTINENT_OF = new Map<string, Continent>();
for (const [continent, codes] of Object.entries(ISO_BY_CONTINENT) as [Continent, string][]) {
  for (const cc of codes.split(' ')) {
    assert.ok(!CONTINENT_OF.has(cc), `ISO table lists ${cc} twice`);
    CONTINENT_OF.set(cc, continent);
  }
}

function distanceKm(a: PopInfo, b: PopInfo): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function pop(code: string): PopInfo {
  const p = findPop(code);
  assert.ok(p, `POP ${code} missing`);
  return p;
}

test('ISO table is the full ISO 3166-1 alpha-2 list', () => {
  assert.equal(CONTINENT_OF.size, 249);
});

test('catalog has at least 300 POPs', () => {
  assert.ok(POPS.length >= 300, `only ${POPS.length} POPs`);
});

test('codes are unique 3-letter uppercase IATA codes', () => {
  const seen = new Set<string>();
  for (const p of POPS) {
    assert.match(p.code, /^[A-Z]{3}$/, p.code);
    assert.ok(!seen.has(p.code), `duplicate code ${p.code}`);
    seen.add(p.code);
  }
});

test('every POP has a city, a valid ISO country and coordinates in range', () => {
  for (const p of POPS) {
    assert.ok(p.city.trim().length > 0 && p.city === p.city.trim(), `${p.code}: bad city ${JSON.stringify(p.city)}`);
    assert.match(p.country, /^[A-Z]{2}$/, `${p.code}: ${p.country}`);
    assert.ok(CONTINENT_OF.has(p.country), `${p.code}: ${p.country} is not an ISO 3166-1 code`);
    assert.ok(Number.isFinite(p.lat) && p.lat >= -90 && p.lat <= 90, `${p.code}: lat ${p.lat}`);
    assert.ok(Number.isFinite(p.lon) && p.lon >= -180 && p.lon <= 180, `${p.code}: lon ${p.lon}`);
    assert.ok(TIERS.includes(p.tier), `${p.code}: tier ${p.tier}`);
  }
});

test('every inhabited continent is represented', () => {
  const counts = new Map<Continent, number>();
  for (const p of POPS) {
    const c = CONTINENT_OF.get(p.country);
    assert.ok(c, p.country);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  for (const c of ['AF', 'AS', 'EU', 'NA', 'OC', 'SA'] as const) {
    assert.ok((counts.get(c) ?? 0) >= 10, `continent ${c} has ${counts.get(c) ?? 0} POPs`);
  }
});

test('tiers are all populated and tier1 holds the ~40 big hubs', () => {
  const counts: Record<Tier, number> = { tier1: 0, tier2: 0, tier3: 0 };
  for (const p of POPS) counts[p.tier]++;
  assert.ok(counts.tier1 >= 20 && counts.tier1 <= 60, `tier1 has ${counts.tier1}`);
  assert.ok(counts.tier2 > 0 && counts.tier3 > 0);
  for (const code of ['FRA', 'AMS', 'LHR', 'CDG', 'IAD', 'ORD', 'DFW', 'LAX', 'SJC', 'SEA', 'NRT', 'SIN', 'HKG', 'SYD', 'GRU', 'JNB']) {
    assert.equal(pop(code).tier, 'tier1', code);
  }
});

test('no two POPs sit on the same spot (closer than 5 km)', () => {
  const coords = new Set<string>();
  for (const p of POPS) {
    const key = `${p.lat},${p.lon}`;
    assert.ok(!coords.has(key), `${p.code}: duplicate coordinates ${key}`);
    coords.add(key);
  }
  for (let i = 0; i < POPS.length; i++) {
    for (let j = i + 1; j < POPS.length; j++) {
      const a = POPS[i]!;
      const b = POPS[j]!;
      const d = distanceKm(a, b);
      assert.ok(d >= 5, `${a.code} and ${b.code} are only ${d.toFixed(1)} km apart`);
    }
  }
});

test('known coordinates (within 0.5°)', () => {
  const known: [string, number, number][] = [
    ['FRA', 50.0, 8.6],
    ['SYD', -33.9, 151.2],
    ['GRU', -23.4, -46.5],
    ['NRT', 35.8, 140.4],
    ['JNB', -26.1, 28.2],
    ['LHR', 51.5, -0.45],
    ['LAX', 33.9, -118.4],
    ['SIN', 1.35, 103.99],
    ['EZE', -34.8, -58.5],
    ['AKL', -37.0, 174.8],
    ['CAI', 30.1, 31.4],
    ['HNL', 21.3, -157.9],
    ['KEF', 64.0, -22.6],
  ];
  for (const [code, lat, lon] of known) {
    const p = pop(code);
    assert.ok(Math.abs(p.lat - lat) <= 0.5 && Math.abs(p.lon - lon) <= 0.5, `${code} at ${p.lat},${p.lon}, expected ~${lat},${lon}`);
  }
  assert.equal(pop('GRU').city, 'São Paulo');
  assert.equal(pop('GRU').country, 'BR');
  assert.equal(pop('FRA').country, 'DE');
});

test('findPop is case-insensitive and returns undefined for unknown codes', () => {
  assert.equal(findPop('fra'), findPop('FRA'));
  assert.equal(findPop('Fra')?.city, 'Frankfurt');
  assert.equal(findPop('syd')?.code, 'SYD');
  assert.equal(findPop('ZZZ'), undefined);
  assert.equal(findPop(''), undefined);
  for (const p of POPS) assert.equal(findPop(p.code.toLowerCase()), p);
});

test('TIER_FACTOR grows from tier1 to tier3', () => {
  assert.deepEqual({ ...TIER_FACTOR }, { tier1: 1.0, tier2: 1.25, tier3: 1.6 });
});

test('FUNCTIONS are the five monitored functions with positive medians', () => {
  assert.deepEqual(
    FUNCTIONS.map((f) => f.name),
    ['auth-check', 'geo-router', 'api-gateway', 'image-resize', 'ssr-render'],
  );
  const medians = Object.fromEntries(FUNCTIONS.map((f) => [f.name, f.medianMs]));
  assert.deepEqual(medians, { 'auth-check': 28, 'geo-router': 35, 'api-gateway': 60, 'image-resize': 140, 'ssr-render': 180 });
  for (const f of FUNCTIONS) {
    assert.ok(f.medianMs > 0 && Number.isFinite(f.medianMs), f.name);
    assert.ok(f.description.length > 0, f.name);
  }
});
