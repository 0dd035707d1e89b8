/**
 * The built `pet-life` operator commands (docs/cli.md): pets, inspect, simulate, doctor on
 * file storage and on a real Redis; simulate writes nothing without --save (byte for byte); doctor
 * fails clearly on an unreachable Redis.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithRedis, testRedisUrl, uniqueId } from '../helpers/redis.js';
import { runCli } from '../helpers/server-process.js';

interface PetsJson {
  count: number;
  pets: { id: string; name: string; age_ms: number; last_change: string; version: number }[];
}

interface InspectJson {
  id: string;
  found: boolean;
  version: number;
  last_instant: { world: string; wall: string };
  keys: { key: string; type: string; bytes: number; ttlMs: number | null; entries?: number }[];
  events_retained: number;
  extras: number;
  dirty_cache: { systems: string[]; note: string };
}

interface SimulateJson {
  summary: { days: number; sleeps: number; hours_asleep: number; lowest_energy: number; highest_hunger: number };
  points: unknown[];
  saved: boolean;
}

/** Every file under `dir` with its bytes: equal snapshots mean nothing was written. */
function snapshotFolder(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const inner = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(inner);
      else files[inner] = `${statSync(path.join(dir, inner)).mtimeMs}:${readFileSync(path.join(dir, inner), 'base64')}`;
    }
  };
  walk('');
  return files;
}

/** The shared checks of pets, inspect and simulate on one backend (`env` selects it). */
function describeCommands(
  label: string,
  env: () => Record<string, string>,
  snapshot: () => Promise<unknown>,
  ids: { a: string; b: string },
) {
  it(`${label}: pets lists the stored pets as a table and as JSON, --limit bounds it`, async () => {
    expect((await runCli(['interact', ids.a, 'feed', '--lang', 'en'], env())).code).toBe(0);
    expect((await runCli(['update', ids.b, '--name', 'Mochi'], env())).code).toBe(0);

    const json = await runCli(['pets', '--json', '--limit', '1000'], env());
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as PetsJson;
    const a = listed.pets.find((pet) => pet.id === ids.a);
    const b = listed.pets.find((pet) => pet.id === ids.b);
    expect(a).toMatchObject({ name: '小糖', version: 1 });
    expect(b).toMatchObject({ name: 'Mochi', version: 1 });
    expect(a?.age_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(a?.last_change ?? '')).toBeGreaterThan(Date.now() - 60_000);
    // No probe pets or global records (life_~…) among them.
    expect(listed.pets.every((pet) => /^[A-Za-z0-9_-]+$/.test(pet.id) && !pet.id.startsWith('pet-life-doctor-'))).toBe(true);

    const limited = JSON.parse((await runCli(['pets', '--json', '--limit', '1'], env())).stdout) as PetsJson;
    expect(limited.count).toBe(1);

    const table = await runCli(['pets'], env());
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+AGE\s+LAST CHANGE\s+VERSION/);
    expect(table.stdout).toContain(ids.b);
    expect(table.stdout).toContain('Mochi');

    const bad = await runCli(['pets', '--limit', 'many'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit/);
  });

  it(`${label}: inspect shows keys, sizes, TTLs, version, last instant, events, extras and the dirty cache`, async () => {
    const result = await runCli(['inspect', ids.a, '--json'], env());
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as InspectJson;
    expect(report).toMatchObject({ id: ids.a, found: true, version: 1, events_retained: 1, extras: 1 });
    expect(Date.parse(report.last_instant.wall)).toBeGreaterThan(Date.now() - 60_000);
    expect(report.keys.length).toBeGreaterThanOrEqual(3);
    expect(report.keys.every((key) => key.bytes > 0)).toBe(true);
    // The idempotency record of the CLI's feed expires (24 h); the pet itself has no TTL here.
    const idem = report.keys.find((key) => key.key.includes('idem'));
    expect(idem?.ttlMs).toBeGreaterThan(23 * 3_600_000);
    expect(report.dirty_cache.systems).toEqual([]);
    expect(report.dirty_cache.note).toMatch(/Life/);

    const text = await runCli(['inspect', ids.a], env());
    expect(text.stdout).toMatch(/events retained: 1/);
    expect(text.stdout).toMatch(/idempotency\/extra records: 1/);
    expect(text.stdout).toMatch(/dirty cache: none/);

    const missing = await runCli(['inspect', 'nobody-here'], env());
    expect(missing.code).toBe(0);
    expect(missing.stdout).toMatch(/nothing stored/);
    const invalid = await runCli(['inspect', 'bad.id'], env());
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stderr)).toMatchObject({ error: { code: 'invalid_device_id' } });
  });

  it(`${label}: simulate charts N days and writes nothing; --save catches the pet up`, async () => {
    const before = await snapshot();
    const chart = await runCli(['simulate', ids.a, '--days', '3'], env());
    expect(chart.code, chart.stderr).toBe(0);
    expect(chart.stdout).toMatch(/pet .+: 3 day\(s\)/);
    expect(chart.stdout).toMatch(/^sleep +[.z ]*z/m);
    expect(chart.stdout).toMatch(/sleeps 3, wakes 3, hours asleep \d/);
    expect(chart.stdout).toMatch(/lowest energy [\d.]+, highest hunger [\d.]+/);
    expect(chart.stdout).toMatch(/nothing written/);
    // Not a terminal and no --progress: no bar.
    expect(chart.stderr).toBe('');

    const json = await runCli(['simulate', ids.a, '--days', '30', '--json', '--progress'], env());
    expect(json.code).toBe(0);
    const simulated = JSON.parse(json.stdout) as SimulateJson;
    expect(simulated.summary.days).toBe(30);
    expect(simulated.summary.sleeps).toBeGreaterThanOrEqual(28);
    expect(simulated.summary.hours_asleep).toBeGreaterThan(30 * 5);
    expect(simulated.saved).toBe(false);
    expect(json.stderr).toMatch(/simulating .*100% \| day 30\/30/);
    expect(await snapshot()).toEqual(before);

    const saved = await runCli(['simulate', ids.b, '--days', '2', '--save', '--width', '40'], env());
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toMatch(/saved: pet .+ caught up by 2 day/);
    const after = JSON.parse((await runCli(['inspect', ids.b, '--json'], env())).stdout) as InspectJson;
    expect(after.version).toBe(2);
    expect(Date.parse(after.last_instant.world) - Date.parse(after.last_instant.wall)).toBeGreaterThan(47 * 3_600_000);

    const missing = await runCli(['simulate', 'nobody-here', '--days', '1'], env());
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: { code: 'not_found' } });
    const noDays = await runCli(['simulate', ids.a], env());
    expect(noDays.code).toBe(2);
    expect(noDays.stderr).toMatch(/--days/);
  });

  it(`${label}: doctor passes every check and leaves no probe pet`, async () => {
    const before = await snapshot();
    const result = await runCli(['doctor'], env());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✓ configuration: valid/);
    expect(result.stdout).toMatch(/✓ storage reachable/);
    expect(result.stdout).toMatch(/✓ storage writable: probe pet pet-life-doctor-\w+ saved/);
    expect(result.stdout).toMatch(/✓ clock: .* from (Redis TIME|the data folder's file time)/);
    expect(result.stdout).toMatch(/doctor: all checks passed/);
    expect(await snapshot()).toEqual(before);
  });
}

describe('pet-life operator commands on files', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pet-life-ops-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  describeCommands(
    'files',
    () => ({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
    async () => snapshotFolder(dataDir),
    { a: 'ops-a', b: 'ops-b' },
  );

  it('files: doctor says there are no scripts to load', async () => {
    const result = await runCli(['doctor'], { DATA_DIR: dataDir });
    expect(result.stdout).toMatch(/- scripts: none to load \(FileStorage runs no Lua\)/);
  });

  it('doctor exits 78 on a bad configuration, naming the variable', async () => {
    const result = await runCli(['doctor'], { DATA_DIR: dataDir, TIME_SCALE: 'fast' });
    expect(result.code).toBe(78);
    expect(result.stdout).toMatch(/✗ configuration: [\s\S]*TIME_SCALE/);
  });
});

describe('pet-life doctor on an unreachable Redis', () => {
  it('exits 69 and says the storage is unreachable', async () => {
    const result = await runCli(['doctor'], { STORAGE: 'redis', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(69);
    expect(result.stdout).toMatch(/✓ configuration: valid; storage RedisStorage \(redis:\/\/127\.0\.0\.1:1\)/);
    expect(result.stdout).toMatch(/✗ storage unreachable: redis redis:\/\/127\.0\.0\.1:1: ping failed: .*ECONNREFUSED/);
    expect(result.stdout).toMatch(/doctor: storage unreachable \(exit 69\)/);
  });
});

describeWithRedis('pet-life operator commands on Redis', () => {
  // A database of its own: `pets` lists what is stored, and the other files' pets share database 0.
  const url = (() => {
    const parsed = new URL(testRedisUrl ?? 'redis://127.0.0.1:6379');
    parsed.pathname = '/9';
    return parsed.toString();
  })();
  const ids = { a: uniqueId('ops-a'), b: uniqueId('ops-b') };
  const client = createClient({ url, RESP: 2 });
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    for (const id of Object.values(ids)) {
      const keys = await client.keys(`life_${id}:*`);
      if (keys.length > 0) await client.del(keys);
    }
    await client.close();
  });
  /** DUMP of every key of the two pets (byte-exact serialisation) and whether each has a TTL. */
  const snapshot = async () => {
    const dump: Record<string, unknown> = {};
    for (const id of Object.values(ids)) {
      for (const key of (await client.keys(`life_${id}:*`)).sort()) {
        dump[key] = [await client.sendCommand(['DUMP', key]), (await client.pTTL(key)) > 0];
      }
    }
    return dump;
  };
  describeCommands('redis', () => ({ STORAGE: 'redis', REDIS_URL: url, LOG_LEVEL: 'silent' }), snapshot, ids);

  it('redis: doctor reports the Lua scripts (SCRIPT EXISTS), CAS_SCRIPT loaded after its probe', async () => {
    await client.sendCommand(['SCRIPT', 'FLUSH']);
    const result = await runCli(['doctor'], { STORAGE: 'redis', REDIS_URL: url });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/✓ scripts: CAS_SCRIPT loaded, HIT_SCRIPT (not loaded yet|loaded), LOAD_COUNTED_SCRIPT/);
  });
});
