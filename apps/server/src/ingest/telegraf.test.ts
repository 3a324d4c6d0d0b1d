/**
 * Telegraf sends one batch with every input's measurements. The cold-start points are
 * stored, the others skipped and counted; a malformed line or a bad cold-start point
 * still refuses the whole body.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';

async function skippedCounter(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^edgeworker_ingest_skipped_points_total (\d+)/m.exec(text);
  assert.ok(m, 'edgeworker_ingest_skipped_points_total missing from /metrics');
  return Number(m[1]);
}

const samplesOf = async (url: string, pop: string) => (await getJson<{ samples: number }>(`${url}/api/pops/${pop}?window=1h`)).body.samples;

describe('Telegraf batches with other measurements', () => {
  it('stores the cold-start points, skips and counts the others', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const body = [
      `cpu,cpu=cpu-total,host=edge-1 usage_idle=97.5,usage_user=1.2 ${now}`,
      line({ pop: 'MAD', ms: 80, t: now }),
      `mem,host=edge-1 used_percent=41.2,available=8123456i ${now}`,
      line({ pop: 'MAD', ms: 90, t: now - 1 }),
      `disk,host=edge-1,path=/ used=1i ${now}`,
      `cpu,cpu=cpu0,host=edge-1 usage_idle=99 ${now}`,
    ].join('\n');
    const res = await fetch(`${url}/write?db=telegraf&precision=ms`, { method: 'POST', body });
    assert.equal(res.status, 204, await res.text());
    assert.equal(res.headers.get('x-skipped-points'), '4');
    assert.equal(await samplesOf(url, 'MAD'), 2);
    assert.equal(await skippedCounter(url), 4);

    // A batch of only cold-start points says nothing about skipping.
    const plain = await fetch(`${url}/api/v2/write?bucket=b&precision=ms`, { method: 'POST', body: line({ pop: 'MAD', ms: 70, t: now - 2 }) });
    assert.equal(plain.status, 204);
    assert.equal(plain.headers.get('x-skipped-points'), null);
    assert.equal(await skippedCounter(url), 4);
  });

  it('keeps all-or-nothing for malformed lines and bad cold-start points, and counts nothing then', async (t) => {
    const { url } = await startTestApp(t);
    const now = Date.now();
    const foreign = `cpu,host=edge-1 usage_idle=97.5 ${now}`;
    const malformed = await write(url, [foreign, line({ pop: 'MAD', ms: 80, t: now }), 'mem,host=edge-1 used_percent='].join('\n'));
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json?.code, 'invalid_line_protocol');
    assert.equal(malformed.json?.line, 3);

    const bad = await write(url, [foreign, line({ pop: 'MAD', ms: 80, t: now }), `cold_start_metrics,function_name=f cold_start_time_ms=1 ${now}`].join('\n'));
    assert.equal(bad.status, 400);
    assert.equal(bad.json?.code, 'missing_tag');
    assert.equal(bad.json?.line, 3);

    assert.equal(await samplesOf(url, 'MAD'), 0);
    assert.equal(await skippedCounter(url), 0);
  });
});
