import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptStateError, StorageUnavailableError } from '../../src/errors.js';
import { MAX_EXTRAS_PER_PET, compareEventIds } from '../../src/storage/index.js';
import { createFileStorage } from '../../src/storage/file.js';
import { encodeSubject } from '../../src/storage/file.js';
import { describeStorageContract, metaFor, petId, sampleSystems } from './contract.js';

const run = promisify(execFile);
/** Above the largest pid_max (2^22): never a live process. */
const DEAD_PID = 2 ** 22 + 12_345;
const fixture = fileURLToPath(new URL('./fixtures/file-increment.ts', import.meta.url));

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true }).catch(() => [])) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(`${relative}/`, ...(await listFiles(root, relative)));
    else out.push(relative);
  }
  return out.sort();
}

describeStorageContract('file', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pet-life-file-contract-'));
  let nowMs = 1_764_028_800_000;
  const now = (): number => nowMs;
  return {
    eventTrim: 'exact',
    watch: true,
    create: (options) => createFileStorage({ dir, now, ...options }),
    listKeys: () => listFiles(dir),
    async pttl(id, name) {
      const raw = await readFile(path.join(dir, id, 'pet.json'), 'utf8').catch(() => null);
      if (raw === null) return -2;
      const file = JSON.parse(raw) as {
        meta: unknown;
        systems: Record<string, unknown>;
        expires_at: number | null;
      };
      if (name.includes(':')) {
        // extras/<name %-encoded>.<expiresAtMs>.json (or .<token>.pending)
        const encoded = encodeSubject(name);
        const expiries = (await readdir(path.join(dir, id, 'extras')).catch(() => [] as string[]))
          .filter((entry) => entry.startsWith(`${encoded}.`))
          .map((entry) => Number(entry.split('.')[1]))
          .filter((expiresAt) => expiresAt > nowMs);
        return expiries.length === 0 ? -2 : Math.max(...expiries) - nowMs;
      }
      if (name !== 'meta' && file.systems[name] === undefined) return -2;
      if (file.expires_at === null) return -1;
      return file.expires_at <= nowMs ? -2 : file.expires_at - nowMs;
    },
    async rawWrite(id, name, value) {
      const file = path.join(dir, id, 'pet.json');
      const raw = await readFile(file, 'utf8').catch(() => null);
      const pet = (raw === null ? { meta: null, systems: {}, expires_at: null } : JSON.parse(raw)) as {
        meta: unknown;
        systems: Record<string, unknown>;
      };
      let parsed: unknown = value;
      try {
        parsed = JSON.parse(value);
      } catch {
        // kept as a JSON string: still not what a driver writes
      }
      if (name === 'meta') pet.meta = parsed;
      else pet.systems[name] = parsed;
      await mkdir(path.join(dir, id), { recursive: true });
      await writeFile(file, JSON.stringify(pet));
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

  it('reports a pet.json that is not a pet file as CorruptStateError naming the pet, never a TypeError', async () => {
    const storage = createFileStorage({ dir });
    const claimed = { ...metaFor(1), claim_hash: 'sha256:c0ffee' };
    const shapes: Array<[unknown, string | null]> = [
      [{ meta: claimed, systems: null, expires_at: null }, 'sha256:c0ffee'],
      [{ meta: claimed, systems: [], expires_at: null }, 'sha256:c0ffee'],
      [{ meta: claimed, expires_at: null }, 'sha256:c0ffee'],
      [{ meta: 'x', systems: {}, expires_at: null }, null],
      [{ meta: { ...claimed, version: '1' }, systems: {}, expires_at: null }, 'sha256:c0ffee'],
      [{ meta: claimed, systems: {}, expires_at: 'never' }, 'sha256:c0ffee'],
      [null, null],
      [[], null],
    ];
    for (const [shape, claimHash] of shapes) {
      const id = petId('not-a-pet');
      await mkdir(path.join(dir, id), { recursive: true });
      await writeFile(path.join(dir, id, 'pet.json'), JSON.stringify(shape));
      for (const attempt of [storage.load(id), storage.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })]) {
        const error = await attempt.catch((caught: unknown) => caught);
        expect(error, JSON.stringify(shape)).toBeInstanceOf(CorruptStateError);
        expect(error).toMatchObject({ petId: id, claimHash });
      }
    }
  });

  it('commits events through pet.json: what a crashed save appended is never read, and the next save cuts it off', async () => {
    const driver = createFileStorage({ dir });
    const id = petId('crash-events');
    const draft = {
      type: 'interacted',
      pet_time: '2026-11-25T16:00:00.000+08:00',
      at: '2026-11-25T08:00:00.000Z',
      data: { action: 'feed' },
    };
    const saved = await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {}, events: [draft] });
    if (!saved.ok) throw new Error('save failed');
    const log = path.join(dir, id, 'events.0.log');
    const committed = await readFile(log, 'utf8');
    expect(committed).toBe(
      `{"id":"${saved.eventIds[0]}","type":"interacted","pet_time":"${draft.pet_time}","at":"${draft.at}","data":{"action":"feed"}}\n`,
    );
    // A save that crashed after appending, before its pet.json; and one that crashed after writing a compacted generation.
    await writeFile(log, `${committed}{"id":"99999999999999-0","type":"lost","pet_time":"x","at":"y","data":{}}\n`);
    await writeFile(path.join(dir, id, 'events.1.log'), '{"id":"99999999999999-1","type":"lost","pet_time":"x","at":"y","data":{}}\n');
    expect((await driver.readEvents(id)).map((event) => event.type)).toEqual(['interacted']);
    const next = await driver.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {}, events: [{ ...draft, type: 'woke_up' }] });
    if (!next.ok) throw new Error('save failed');
    expect(compareEventIds(saved.eventIds[0] as string, next.eventIds[0] as string)).toBeLessThan(0);
    expect(next.eventIds[0]).not.toBe('99999999999999-1');
    expect((await driver.readEvents(id)).map((event) => event.type)).toEqual(['interacted', 'woke_up']);
    expect((await readdir(path.join(dir, id))).filter((entry) => entry.startsWith('events.'))).toEqual(['events.0.log']);
    expect((await readFile(log, 'utf8')).split('\n').filter((line) => line.includes('lost'))).toEqual([]);
    await driver.close();
  });

  it('compacts the log into a new generation over twice the bound and deletes the old one', async () => {
    const driver = createFileStorage({ dir, eventLogMax: 3 });
    const id = petId('compact');
    const draft = { type: 'interacted', pet_time: 't', at: 'a', data: {} };
    const ids: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const saved = await driver.save(id, { expectedVersion: i, meta: metaFor(i + 1), systems: {}, events: [{ ...draft, data: { i } }] });
      if (saved.ok) ids.push(...saved.eventIds);
    }
    expect((await driver.readEvents(id)).map((event) => event.id)).toEqual(ids.slice(-3));
    const logs = (await readdir(path.join(dir, id))).filter((entry) => entry.startsWith('events.'));
    expect(logs).toHaveLength(1);
    expect(logs[0]).not.toBe('events.0.log');
    const lines = (await readFile(path.join(dir, id, logs[0] as string), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeLessThanOrEqual(6);
    await driver.close();
  });

  it('reads a consistent log while saves append and compact it', async () => {
    const driver = createFileStorage({ dir, eventLogMax: 3 });
    const id = petId('read-during-compact');
    const draft = { type: 'interacted', pet_time: 't', at: 'a', data: {} };
    const ids: string[] = [];
    let saving = true;
    const reads: string[][] = [];
    const reader = (async () => {
      while (saving) reads.push((await driver.readEvents(id)).map((event) => event.id));
    })();
    for (let i = 0; i < 30; i += 1) {
      const saved = await driver.save(id, { expectedVersion: i, meta: metaFor(i + 1), systems: {}, events: [draft, draft] });
      if (saved.ok) ids.push(...saved.eventIds);
    }
    saving = false;
    await reader;
    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) {
      expect(read.length).toBeLessThanOrEqual(3);
      // Always a run of consecutive committed events, in order.
      const start = ids.indexOf(read[0] as string);
      if (read.length > 0) expect(read).toEqual(ids.slice(start, start + read.length));
    }
    expect((await driver.readEvents(id)).map((event) => event.id)).toEqual(ids.slice(-3));
    await driver.close();
  });

  it('keeps one folder per pet holding one compact JSON file', async () => {
    const storage = createFileStorage({ dir });
    const id = petId('layout');
    await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
    expect(await readdir(path.join(dir, id))).toEqual(['pet.json']);
    const raw = await readFile(path.join(dir, id, 'pet.json'), 'utf8');
    expect(raw).toBe(JSON.stringify(JSON.parse(raw)));
    expect(JSON.parse(raw)).toEqual({ meta: metaFor(1), systems: sampleSystems(), expires_at: null, extras_token: null });
    expect(storage.target).toBe(dir);
  });

  it('keeps extras out of pet.json: 300 keyed saves leave it the size it had, and at most MAX_EXTRAS_PER_PET extra files', async () => {
    const storage = createFileStorage({ dir });
    const id = petId('keyed');
    const answer = JSON.stringify({ fingerprint: 'f'.repeat(64), status: 200, body: { note: 'x'.repeat(2000) } });
    const sizes: number[] = [];
    // Versions 100…399 have three digits each, so only the extras could change the size.
    await storage.replace(id, { meta: metaFor(99), systems: sampleSystems() });
    for (let i = 0; i < 300; i += 1) {
      const extras = [{ name: `idem:${i.toString(16).padStart(64, '0')}`, value: answer, ttlMs: 86_400_000 + i }];
      const result = await storage.save(id, { expectedVersion: 99 + i, meta: metaFor(100 + i), systems: sampleSystems(), extras });
      expect(result.ok).toBe(true);
      sizes.push((await stat(path.join(dir, id, 'pet.json'))).size);
    }
    expect(new Set(sizes).size).toBe(1);
    expect(sizes[0]).toBeLessThan(2000);
    const files = await readdir(path.join(dir, id, 'extras'));
    expect(files).toHaveLength(MAX_EXTRAS_PER_PET);
    expect(files.every((file) => file.endsWith('.json'))).toBe(true);
    const last = `idem:${(299).toString(16).padStart(64, '0')}`;
    expect((await storage.load(id, { extras: [last] }))?.extras[last]).toBe(answer);
  });

  it('joins extras to their save through its token: a crash before pet.json leaves neither, after it both', async () => {
    let nowMs = 1_764_028_800_000;
    const storage = createFileStorage({ dir, now: () => nowMs });
    const id = petId('token');
    const extrasDir = path.join(dir, id, 'extras');
    await storage.save(id, {
      expectedVersion: 0,
      meta: metaFor(1),
      systems: {},
      extras: [{ name: 'idem:01', value: 'one', ttlMs: 60_000 }],
    });
    expect(await readdir(extrasDir)).toEqual([`idem%3A01.${nowMs + 60_000}.json`]);
    const pet = JSON.parse(await readFile(path.join(dir, id, 'pet.json'), 'utf8')) as { extras_token: string };
    expect(pet.extras_token).toMatch(/^[0-9a-f]{16}$/);
    // A crash after pet.json, before the rename: the pending file of the current token counts…
    await rename(
      path.join(extrasDir, `idem%3A01.${nowMs + 60_000}.json`),
      path.join(extrasDir, `idem%3A01.${nowMs + 60_000}.${pet.extras_token}.pending`),
    );
    // …a crash before pet.json (another token) leaves a pending file nobody accepts.
    await writeFile(path.join(extrasDir, `idem%3A02.${nowMs + 60_000}.0123456789abcdef.pending`), 'lost');
    expect((await storage.load(id, { extras: ['idem:01', 'idem:02'] }))?.extras).toEqual({ 'idem:01': 'one', 'idem:02': null });
    // The next save promotes the first and deletes the second; expired extras go too.
    await storage.save(id, {
      expectedVersion: 1,
      meta: metaFor(2),
      systems: {},
      extras: [{ name: 'idem:03', value: 'three', ttlMs: 1000 }],
    });
    expect((await readdir(extrasDir)).sort()).toEqual([`idem%3A01.${nowMs + 60_000}.json`, `idem%3A03.${nowMs + 1000}.json`]);
    nowMs += 2000;
    expect((await storage.load(id, { extras: ['idem:01', 'idem:03'] }))?.extras).toEqual({ 'idem:01': 'one', 'idem:03': null });
    await storage.save(id, { expectedVersion: 2, meta: metaFor(3), systems: {} });
    expect(await readdir(extrasDir)).toEqual([`idem%3A01.${nowMs - 2000 + 60_000}.json`]);
    await storage.remove(id);
    expect(await readdir(path.join(dir, id)).catch(() => [])).toEqual([]);
  });

  it('loads extras kept inside pet.json by older versions, and moves them out at the next save', async () => {
    const storage = createFileStorage({ dir });
    const id = petId('legacy');
    const expiresAt = Date.now() + 60_000;
    await mkdir(path.join(dir, id), { recursive: true });
    const legacy = {
      meta: metaFor(1),
      systems: sampleSystems(),
      extras: { 'idem:0a': { value: 'old answer', expires_at: expiresAt } },
      expires_at: null,
    };
    await writeFile(path.join(dir, id, 'pet.json'), JSON.stringify(legacy));
    expect((await storage.load(id, { extras: ['idem:0a'] }))?.extras).toEqual({ 'idem:0a': 'old answer' });
    await storage.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} });
    expect(JSON.parse(await readFile(path.join(dir, id, 'pet.json'), 'utf8'))).not.toHaveProperty('extras');
    expect(await readdir(path.join(dir, id, 'extras'))).toEqual([`idem%3A0a.${expiresAt}.json`]);
    expect((await storage.load(id, { extras: ['idem:0a'] }))?.extras).toEqual({ 'idem:0a': 'old answer' });
    await storage.remove(id); // its extra is not JSON: later tests parse every .json file of the folder
  });

  it('sweeps expired invite records as new codes are saved, and keeps live ones and owners', async () => {
    let nowMs = 1_764_028_800_000;
    const recordsDir = await mkdtemp(path.join(tmpdir(), 'pet-life-file-record-sweep-'));
    const storage = createFileStorage({ dir: recordsDir, now: () => nowMs });
    const invites = async (): Promise<string[]> => (await readdir(path.join(recordsDir, '~invite'))).filter((f) => f.endsWith('.record'));
    for (let i = 0; i < 40; i += 1) {
      await storage.saveRecord({ purpose: 'invite', subject: `old${i}` }, { expectedVersion: 0, value: '{}', ttlMs: 1000 });
    }
    await storage.saveRecord({ purpose: 'invite', subject: 'live' }, { expectedVersion: 0, value: '{}', ttlMs: 60_000 });
    await storage.saveRecord({ purpose: 'owner', subject: 'own' }, { expectedVersion: 0, value: '{}' });
    await storage.close(); // waits for the sweep in flight
    expect(await invites()).toHaveLength(41); // none expired yet
    nowMs += 2000;
    const fresh = createFileStorage({ dir: recordsDir, now: () => nowMs });
    for (let i = 0; i < 8; i += 1) {
      await fresh.saveRecord({ purpose: 'invite', subject: `new${i}` }, { expectedVersion: 0, value: '{}', ttlMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 20)); // each sweep runs after its save
    }
    await fresh.close();
    const left = await invites();
    expect(left.filter((f) => f.startsWith('old'))).toEqual([]);
    expect(left).toContain('live.record');
    expect((await fresh.loadRecords([{ purpose: 'owner', subject: 'own' }]))[0]?.value).toBe('{}');
  });

  it('sweeps expired hit counters a few at a time after hits, and keeps live ones', async () => {
    let nowMs = 1_764_028_800_000;
    const countersDir = await mkdtemp(path.join(tmpdir(), 'pet-life-file-sweep-'));
    const storage = createFileStorage({ dir: countersDir, now: () => nowMs });
    const counters = async (): Promise<string[]> =>
      (await readdir(path.join(countersDir, '~ratelimit'))).filter((f) => f.endsWith('.json'));
    for (let i = 0; i < 200; i += 1) await storage.hit('ratelimit', `2001:db8::${i.toString(16)}`, 1000);
    await storage.hit('ratelimit', 'live', 60_000);
    await storage.close(); // waits for sweeps in flight
    expect(await counters()).toHaveLength(201); // none expired yet
    nowMs += 2000;
    const fresh = createFileStorage({ dir: countersDir, now: () => nowMs });
    // Each hit earns the sweep a few looks; a sweep in flight when the credit tops out drops the
    // excess, so under a loaded machine it takes more hits than the 80 a quiet one needs. Bounded:
    // 200 expired files must be gone within 400 hits.
    let hits = 0;
    for (; hits < 400 && (await counters()).length > 2; hits += 1) await fresh.hit('ratelimit', 'busy', 1000);
    await fresh.close();
    expect(hits).toBeLessThan(400);
    expect((await counters()).sort()).toEqual(['busy.json', 'live.json']);
    expect((await fresh.hit('ratelimit', 'live', 60_000)).count).toBe(2);
    await fresh.close();
    await rm(countersDir, { recursive: true, force: true });
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
    const error = await busy.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    // The message reaches clients (503 body): it names the pet, never a path.
    expect((error as Error).message).toMatch(new RegExp(`^pet ${id} is busy`));
    expect((error as Error).message).not.toContain(dir);
    expect((error as Error).message).not.toContain('.lock');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    expect((await busy.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).ok).toBe(true);
    await expect(stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  // A crash between creating a lock and writing its owner into it (older versions did that in two
  // steps) leaves an empty or cut-off lock: it must not hold the pet for staleLockMs.
  for (const [kind, content] of [
    ['empty', ''],
    ['cut off', '{"pid":'],
    ['garbled', '\u0000\u0000 not a lock'],
  ] as const) {
    it(`takes over a lock file left ${kind} about a second after it was written, at once when older`, async () => {
      const storage = createFileStorage({ dir });
      const id = petId(`lock-${kind.replace(' ', '-')}`);
      await mkdir(path.join(dir, id), { recursive: true });
      const lockPath = path.join(dir, id, '.lock');
      await writeFile(lockPath, content);
      let started = Date.now();
      expect((await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).ok).toBe(true);
      const fresh = Date.now() - started;
      expect(fresh).toBeGreaterThanOrEqual(800); // a lock being written by an older version is left alone
      expect(fresh).toBeLessThan(1800);
      await writeFile(lockPath, content);
      const old = new Date(Date.now() - 5000);
      await utimes(lockPath, old, old);
      started = Date.now();
      expect((await storage.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })).ok).toBe(true);
      expect(Date.now() - started).toBeLessThan(500);
      expect(await readdir(path.join(dir, id))).toEqual(['pet.json']);
    });
  }

  it('takes over at once a lock of a dead process written just now, and leaves no lock files', async () => {
    const storage = createFileStorage({ dir });
    const id = petId('lock-dead');
    await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} });
    await writeFile(path.join(dir, id, '.lock'), JSON.stringify({ pid: DEAD_PID, host: hostname(), token: 'x', at: Date.now() }));
    const started = Date.now();
    expect((await storage.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(300);
    expect(await readdir(path.join(dir, id))).toEqual(['pet.json']);
  });

  it("takes over at once a lock with this process's pid written before it started (a restarted container)", async () => {
    const storage = createFileStorage({ dir, lockTimeoutMs: 300 });
    const id = petId('lock-predecessor');
    await mkdir(path.join(dir, id), { recursive: true });
    const lockPath = path.join(dir, id, '.lock');
    const predecessor = { pid: process.pid, host: hostname(), token: 'before', at: performance.timeOrigin - 60_000 };
    await writeFile(lockPath, JSON.stringify(predecessor));
    const started = Date.now();
    expect((await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: {} })).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(300);
    // The same pid, written since this process started, with a token it does not hold: left alone.
    await writeFile(lockPath, JSON.stringify({ ...predecessor, token: 'unknown', at: Date.now() }));
    await expect(storage.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })).rejects.toBeInstanceOf(StorageUnavailableError);
    await rm(lockPath);
  });

  it('removes temp files of killed writes when the lock is taken, and keeps live ones', async () => {
    const storage = createFileStorage({ dir });
    const id = petId('temps');
    const folder = path.join(dir, id);
    await storage.save(id, { expectedVersion: 0, meta: metaFor(1), systems: sampleSystems() });
    const minutesAgo = new Date(Date.now() - 2 * 60_000);
    const debris = [
      `pet.json.${DEAD_PID}.0a1b2c3d4e5f.tmp`, // dead writer, fresh
      `pet.json.${process.pid}.00aa00aa00aa.tmp`, // a live pid, but two minutes old
      `.lock.${DEAD_PID}.0123456789abcdef.tmp`, // a lock being created when its process died
      `.lock.stale.${DEAD_PID}.abcd1234`, // a stale lock moved aside when its taker died
    ];
    const kept = [
      `pet.json.${process.ppid}.bbbbbbbbbbbb.tmp`, // a live process, fresh: may still be renamed
      'notes.txt', // not ours
      'pet.json.backup',
    ];
    for (const name of [...debris, ...kept]) await writeFile(path.join(folder, name), '{"meta":');
    await utimes(path.join(folder, debris[1] as string), minutesAgo, minutesAgo);
    // A load takes no lock and leaves everything as it is.
    expect((await storage.load(id))?.version).toBe(1);
    expect((await readdir(folder)).length).toBe(1 + debris.length + kept.length);
    expect((await storage.save(id, { expectedVersion: 1, meta: metaFor(2), systems: {} })).ok).toBe(true);
    expect((await readdir(folder)).sort()).toEqual(['pet.json', ...kept].sort());
    expect((await storage.load(id))?.systems).toEqual(sampleSystems());
  });

  it("removes a counter's temp files when its lock is taken over from a dead process", async () => {
    const storage = createFileStorage({ dir });
    const subject = `::ffff:${process.pid}`;
    const name = subject.replace(/:/g, '%3A');
    expect((await storage.hit('crashed', subject, 60_000)).count).toBe(1);
    const folder = path.join(dir, '~crashed');
    await writeFile(path.join(folder, `${name}.lock`), JSON.stringify({ pid: DEAD_PID, host: hostname(), token: 'x', at: Date.now() }));
    await writeFile(path.join(folder, `${name}.json.${DEAD_PID}.0a1b2c3d4e5f.tmp`), '{"count":');
    await writeFile(path.join(folder, `other.json.${DEAD_PID}.0a1b2c3d4e5f.tmp`), '{"count":'); // another counter's
    const started = Date.now();
    const counted = await storage.loadCounted(petId('nobody'), { hits: [{ purpose: 'crashed', subject, windowMs: 60_000 }] });
    expect(Date.now() - started).toBeLessThan(300);
    expect(counted).toEqual({ record: null, hits: [{ count: 2, resetInMs: expect.any(Number) }] });
    expect((await readdir(folder)).sort()).toEqual([`${name}.json`, `other.json.${DEAD_PID}.0a1b2c3d4e5f.tmp`].sort());
  });

  it('counts loadCounted hits under the counter lock: a busy counter is a 503 naming no path', async () => {
    const storage = createFileStorage({ dir, lockTimeoutMs: 150 });
    const subject = '2001:db8::busy';
    await storage.hit('slow', subject, 60_000);
    const lockPath = path.join(dir, '~slow', `${subject.replace(/:/g, '%3A')}.lock`);
    // Held by a live process elsewhere: only its age could free it.
    await writeFile(lockPath, JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 't', at: Date.now() }));
    const error = await storage
      .loadCounted(petId('busy'), { hits: [{ purpose: 'slow', subject, windowMs: 60_000 }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toMatch(/^the slow counter is busy/);
    expect((error as Error).message).not.toContain(dir);
    await rm(lockPath);
    expect((await storage.hit('slow', subject, 60_000)).count).toBe(2);
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
    const error = await storage.save(petId('x'), { expectedVersion: 0, meta: metaFor(1), systems: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toMatch(/^file storage failed: .+ \(E[A-Z]+/);
    expect((error as Error).message).not.toContain(dir);
    await expect(storage.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
    const loadError = await storage.loadCounted(petId('x'), { hits: [] }).catch((caught: unknown) => caught);
    expect(loadError).toBeInstanceOf(StorageUnavailableError);
    expect((loadError as Error).message).not.toContain(dir);
  });
});
