import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import { createFileStorage } from '../../src/storage/index.js';
import { describeStorageContract, metaFor, petId, sampleSystems } from './contract.js';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/file-increment.ts', import.meta.url));

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true }).catch(() => [])) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(relative + '/', ...(await listFiles(root, relative)));
    else out.push(relative);
  }
  return out.sort();
}

describeStorageContract('file', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pet-life-file-contract-'));
  let nowMs = 1_764_028_800_000;
  const now = (): number => nowMs;
  return {
    create: (options) => createFileStorage({ dir, now, ...(options?.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }) }),
    listKeys: () => listFiles(dir),
    async pttl(id, name) {
      const raw = await readFile(path.join(dir, id, 'pet.json'), 'utf8').catch(() => null);
      if (raw === null) return -2;
      const file = JSON.parse(raw) as {
        meta: unknown;
        systems: Record<string, unknown>;
        extras: Record<string, { expires_at: number }>;
        expires_at: number | null;
      };
      if (name.includes(':')) {
        const extra = file.extras[name];
        return extra === undefined || extra.expires_at <= nowMs ? -2 : extra.expires_at - nowMs;
      }
      if (name !== 'meta' && file.systems[name] === undefined) return -2;
      if (file.expires_at === null) return -1;
      return file.expires_at <= nowMs ? -2 : file.expires_at - nowMs;
    },
    async advance(ms) {
      nowMs += ms;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('file storage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pet-life-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one folder per pet holding one compact JSON file', async () => {
    const storage = createFileStorage({ dir });
    const id = petId('layout');
    await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
    expect(await readdir(path.join(dir, id))).toEqual(['pet.json']);
    const raw = await readFile(path.join(dir, id, 'pet.json'), 'utf8');
    expect(raw).toBe(JSON.stringify(JSON.parse(raw)));
    expect(JSON.parse(raw)).toMatchObject({ meta: metaFor(1), systems: sampleSystems(), extras: {}, expires_at: null });
    expect(storage.target).toBe(dir);
  });

  it('loses no increment across 3 processes and leaves no temp or lock files', async () => {
    const id = petId('processes');
    // All three start incrementing at the same instant, once tsx has loaded.
    const startAt = String(Date.now() + 2500);
    const children = await Promise.all(
      [0, 1, 2].map(() =>
        run(process.execPath, ['--import', 'tsx', fixture, dir, id, '40', startAt], { timeout: 60_000, cwd: process.cwd() }),
      ),
    );
    const results = children.map(({ stdout }) => JSON.parse(stdout) as { done: number; conflicts: number });
    expect(results.map((r) => r.done)).toEqual([40, 40, 40]);
    const record = await createFileStorage({ dir }).load(id);
    expect(record?.systems.stats?.['feed']).toBe(120);
    expect(record?.version).toBe(120);
    expect(await readdir(path.join(dir, id))).toEqual(['pet.json']);
    for (const file of await listFiles(dir)) {
      expect(file).not.toMatch(/\.tmp$|\.lock$|\.stale\./);
      if (file.endsWith('.json')) JSON.parse(await readFile(path.join(dir, file), 'utf8')); // every file parses
    }
    console.info(`[file] 3 processes × 40 increments: 120 of 120 kept, ${results.reduce((n, r) => n + r.conflicts, 0)} conflicts retried`);
  }, 60_000);

  it('takes over the lock of a dead process at once', async () => {
    const storage = createFileStorage({ dir, lockTimeoutMs: 2000 });
    const id = petId('deadlock');
    await mkdir(path.join(dir, id), { recursive: true });
    const lock = { pid: 2 ** 22 + 12_345, host: hostname(), token: 'dead', at: Date.now() };
    await writeFile(path.join(dir, id, '.lock'), JSON.stringify(lock));
    const started = Date.now();
    expect((await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await readdir(path.join(dir, id))).toEqual(['pet.json']);
  });

  it('takes over a lock older than staleLockMs and waits for a fresh one', async () => {
    const id = petId('stale');
    await mkdir(path.join(dir, id), { recursive: true });
    const lockPath = path.join(dir, id, '.lock');
    // Held by a live process (this one, as seen from another host): only its age can free it.
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 't', at: 0 }));
    const busy = createFileStorage({ dir, lockTimeoutMs: 150, staleLockMs: 10_000 });
    await expect(busy.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    expect((await busy.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).ok).toBe(true);
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ignores a temp file left by a crash mid-write', async () => {
    const storage = createFileStorage({ dir });
    const id = petId('crash');
    await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
    await writeFile(path.join(dir, id, 'pet.json.999.abcdef.tmp'), '{"meta":{"version":2'); // torn write
    const record = await storage.load(id);
    expect(record?.version).toBe(1);
    expect(record?.systems).toEqual(sampleSystems());
  });

  it('keeps hit counters in ~<purpose>/ with encoded subjects', async () => {
    const storage = createFileStorage({ dir });
    expect((await storage.hit('ratelimit', '::1', 60_000)).count).toBe(1);
    expect((await storage.hit('ratelimit', '::1', 60_000)).count).toBe(2);
    expect((await storage.hit('ratelimit', '../../etc', 60_000)).count).toBe(1);
    const files = await readdir(path.join(dir, '~ratelimit'));
    expect(files.sort()).toEqual(['%2E%2E%2F%2E%2E%2Fetc.json', '%3A%3A1.json']);
  });

  it('reports an unwritable folder as unavailable storage', async () => {
    const file = path.join(dir, 'not-a-folder');
    await writeFile(file, 'x');
    const storage = createFileStorage({ dir: file });
    await expect(storage.save(petId('x'), { expectedVersion: 0, meta: metaFor(1), systems: {} })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    await expect(storage.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
