import { describe, expect, it } from 'vitest';
import { isPetLifeError } from '../../src/errors.js';
import { Life } from '../../src/service/life.js';
import { createManualClock } from '../../src/service/clock.js';
import { StateManager, VersionConflictError, createMemoryStorage } from '../../src/storage/index.js';
import { metaFor, petId, sampleSystems } from './contract.js';

const { version: _version, ...metaFields } = metaFor(0);

describe('StateManager', () => {
  it('collects changes in dirtyCache and flushes them all in one round trip', async () => {
    const driver = createMemoryStorage();
    const manager = new StateManager({ driver, petId: petId('deferred'), autoFlush: false });
    expect(await manager.load()).toBeNull();
    manager.setMeta(metaFields);
    const systems = sampleSystems();
    const before = driver.roundTrips();
    for (let i = 0; i < 100; i += 1) {
      await manager.set('rhythm', { ...systems.rhythm, internal_phase: i / 100 });
      await manager.set('energy', { ...systems.energy, energy: 100 - i });
    }
    expect(driver.roundTrips()).toBe(before);
    expect([...manager.dirtyCache.keys()].sort()).toEqual(['energy', 'rhythm']);
    const report = await manager.flush();
    expect(report).toEqual({ systems: ['rhythm', 'energy'], keys: 3, roundTrips: 1, version: 1 });
    expect(manager.dirtyCache.size).toBe(0);
    const stored = await driver.load(manager.petId);
    expect(stored?.systems.rhythm?.['internal_phase']).toBe(0.99);
    expect(stored?.systems.energy?.['energy']).toBe(1);
    expect(stored?.meta).toEqual({ ...metaFields, version: 1 });
  });

  it('flushes nothing when nothing is dirty (a second flush is free)', async () => {
    const driver = createMemoryStorage();
    const manager = new StateManager({ driver, petId: petId('idempotent'), autoFlush: false });
    await manager.load();
    manager.setMeta(metaFields);
    await manager.set('mood', { mood: 50 });
    expect((await manager.flush()).roundTrips).toBe(1);
    const trips = driver.roundTrips();
    expect(await manager.flush()).toEqual({ systems: [], keys: 0, roundTrips: 0, version: 1 });
    expect(driver.roundTrips()).toBe(trips);
  });

  it('writes through at once with autoFlush, one compare-and-set per set', async () => {
    const driver = createMemoryStorage();
    const manager = new StateManager({ driver, petId: petId('through'), autoFlush: true });
    await manager.load();
    manager.setMeta(metaFields);
    const report = await manager.set('rhythm', sampleSystems().rhythm);
    expect(report).toEqual({ systems: ['rhythm'], keys: 2, roundTrips: 1, version: 1 });
    expect(manager.dirtyCache.size).toBe(0);
    await manager.set('energy', sampleSystems().energy);
    expect((await driver.load(manager.petId))?.version).toBe(2);
  });

  it('get returns a copy, preferring the dirty value', async () => {
    const driver = createMemoryStorage();
    const id = petId('copy');
    await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: { mood: { mood: 10 } } });
    const manager = new StateManager({ driver, petId: id, autoFlush: false });
    await manager.load();
    const copy = manager.get('mood');
    expect(copy).toEqual({ mood: 10 });
    (copy as { mood: number }).mood = 99;
    expect(manager.get('mood')).toEqual({ mood: 10 });
    await manager.set('mood', { mood: 20 });
    expect(manager.get('mood')).toEqual({ mood: 20 });
    expect(manager.get('stats')).toBeNull();
  });

  it('throws VersionConflictError when someone saved first, keeping the dirty systems', async () => {
    const driver = createMemoryStorage();
    const id = petId('conflict');
    const manager = new StateManager({ driver, petId: id, autoFlush: false });
    await manager.load();
    manager.setMeta(metaFields);
    await driver.save(id, { expectedVersion: 0, meta: metaFor(1), systems: { mood: { mood: 1 } } });
    await manager.set('mood', { mood: 2 });
    const error = await manager.flush().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ expectedVersion: 0, actualVersion: 1, code: 'conflict_retries_exhausted' });
    expect(isPetLifeError(error)).toBe(true);
    expect(manager.dirtyCache.get('mood')).toEqual({ mood: 2 });
    // The caller's retry: reload (drops the dirty state), re-apply, flush.
    await manager.load();
    await manager.set('mood', { mood: Number(manager.get('mood')?.['mood']) + 1 });
    expect((await manager.flush()).version).toBe(2);
    expect((await driver.load(id))?.systems.mood).toEqual({ mood: 2 });
  });

  it('writes extras with the flush', async () => {
    const driver = createMemoryStorage();
    const manager = new StateManager({ driver, petId: petId('extras'), autoFlush: false });
    await manager.load();
    manager.setMeta(metaFields);
    await manager.set('stats', { feed: 1, play: 0, greet: 0 });
    const report = await manager.flush({ extras: [{ name: 'idem:ab', value: 'done', ttlMs: 60_000 }] });
    expect(report.keys).toBe(3);
    expect((await driver.load(manager.petId, { extras: ['idem:ab'] }))?.extras).toEqual({ 'idem:ab': 'done' });
  });
});

describe('Life (the seed facade)', () => {
  const clock = createManualClock(Date.UTC(2026, 10, 25, 8, 0));
  const tickAt = Math.floor(clock.nowMs() / 60_000);

  it('defers 1440 ticks into one flush of every changed system', async () => {
    const driver = createMemoryStorage();
    const life = await Life.open({ storage: driver, petId: petId('deferred'), tickAt, clock, timezone: 'Asia/Shanghai' });
    expect(life.stateManager.autoFlush).toBe(false);
    const before = driver.roundTrips();
    for (let i = 0; i < 1440; i += 1) await life.tick();
    expect(driver.roundTrips()).toBe(before);
    expect([...life.stateManager.dirtyCache.keys()].sort()).toEqual(['energy', 'mood', 'rhythm', 'satiety', 'stats']);
    const report = await life.flush();
    expect(report.roundTrips).toBe(1);
    expect(report.version).toBe(1);
    expect(life.stateManager.dirtyCache.size).toBe(0);
    const reopened = await Life.open({ storage: driver, petId: life.petId, clock });
    expect(reopened.state.tick).toBe(tickAt + 1440);
    expect(reopened.getStates()).toEqual(life.getStates());
    expect(reopened.state.timezone).toBe('Asia/Shanghai');
    expect(typeof reopened.getExpression('en').feeling).toBe('string');
  });

  it('writes every changed system through on each tick with autoFlush', async () => {
    const driver = createMemoryStorage();
    const life = await Life.open({ storage: driver, petId: petId('through'), autoFlush: true, tickAt, clock });
    expect(life.stateManager.version).toBe(1); // the new pet, all systems in one save
    const before = driver.roundTrips();
    await life.tick();
    const writes = driver.roundTrips() - before;
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(life.stateManager.version).toBe(1 + writes);
    expect(life.stateManager.dirtyCache.size).toBe(0);
    expect((await driver.load(life.petId))?.meta?.world_ms).toBe((tickAt + 1) * 60_000);
  });

  it('opens a pet the Python server wrote (rhythm and energy only) and stores a meta for it', async () => {
    const driver = createMemoryStorage();
    const id = petId('python');
    driver.rawSet(
      `life_${id}:rhythm`,
      '{"internal_phase":0.041009875020171324,"last_calibration":1762100299.762366,"last_update":1762100299.762366,"external_phase":4.877646764119466e-06,"phase_difference":-0.041524047973070584}',
    );
    driver.rawSet(
      `life_${id}:energy`,
      '{"energy":99.15729479437536,"last_update":1762100299.76237,"consumption_rate":0.8427052056246336,"recovery_rate":0.0,"circadian_value":0.6274153621648515}',
    );
    const life = await Life.open({ storage: driver, petId: id, clock });
    expect(life.stateManager.version).toBe(0);
    expect(life.state.tick).toBe(Math.floor(1762100299.762366 / 60));
    await life.tick(60);
    expect((await life.flush()).version).toBe(1);
    expect((await driver.load(id))?.meta?.pet_name).toBe('小糖');
  });
});
