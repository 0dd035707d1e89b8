/** src/service/pets/pet-queue.ts: one request at a time per pet in a process (docs/reliability.md). */
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/errors.js';
import { createManualClock, createPetQueue, createPetService } from '../../src/service/index.js';
import { createMemoryStorage } from '../../src/storage/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the per-pet queue', () => {
  it('runs one task per pet at a time, first come first served, and pets side by side', async () => {
    const queue = createPetQueue();
    const log: string[] = [];
    let inFlight = 0;
    let most = 0;
    const task = (name: string) => async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      log.push(`start ${name}`);
      await tick();
      await tick();
      log.push(`end ${name}`);
      inFlight -= 1;
      return name;
    };
    const results = await Promise.all([queue.run('a', task('a1')), queue.run('a', task('a2')), queue.run('a', task('a3'))]);
    expect(results).toEqual(['a1', 'a2', 'a3']);
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    expect(most).toBe(1);

    const both = [queue.run('x', task('x')), queue.run('y', task('y'))];
    expect(queue.size()).toBe(2);
    await Promise.all(both);
    expect(log.slice(-4)).toEqual(['start x', 'start y', 'end x', 'end y']);
  });

  it('cleans up after itself: no lane is left once a pet has nothing in flight', async () => {
    const queue = createPetQueue();
    await Promise.all(Array.from({ length: 50 }, (_, i) => queue.run(`pet-${i % 5}`, async () => tick())));
    expect(queue.size()).toBe(0);
    await expect(queue.run('p', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(queue.size()).toBe(0);
  });

  it('lets a failure pass to the next task, unless it is shared', async () => {
    const queue = createPetQueue({ sharesFailure: (error) => error instanceof StorageUnavailableError });
    const ran: string[] = [];
    const outcomes = await Promise.allSettled([
      queue.run('p', async () => {
        throw new Error('only mine');
      }),
      queue.run('p', async () => ran.push('second')),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled']);

    // Storage down: every task already waiting fails with the same error at once, without running.
    const down = new StorageUnavailableError('redis is down');
    const waiting = await Promise.allSettled([
      queue.run('p', async () => {
        await tick();
        throw down;
      }),
      queue.run('p', async () => ran.push('waiting 1')),
      queue.run('p', async () => ran.push('waiting 2')),
    ]);
    expect(waiting.map((outcome) => (outcome.status === 'rejected' ? outcome.reason : 'ok'))).toEqual([down, down, down]);
    expect(ran).toEqual(['second']);
    // A task queued after the failure runs.
    await queue.run('p', async () => ran.push('later'));
    expect(ran).toEqual(['second', 'later']);
    expect(queue.size()).toBe(0);
  });

  it('spares the service compare-and-set conflicts inside one process: 64 concurrent changes, 64 attempts', async () => {
    const storage = createMemoryStorage();
    const service = createPetService({ storage, clock: createManualClock(Date.UTC(2026, 2, 1)) });
    await service.getState('busy');
    const results = await Promise.all(Array.from({ length: 64 }, () => service.interact('busy', 'feed')));
    expect(results.map((result) => result.attempts)).toEqual(Array(64).fill(1));
    expect(results.map((result) => result.value.stats.feed).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
  });

  it('lets readers of one pet through side by side: a state read waits for no one', async () => {
    const storage = createMemoryStorage();
    const service = createPetService({ storage, clock: createManualClock(Date.UTC(2026, 2, 1)) });
    await service.getState('watched');
    // Loads that only finish when all eight readers have started: a queue would deadlock here.
    const load = storage.load.bind(storage);
    let started = 0;
    let openGate = (): void => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    storage.load = async (...args) => {
      started += 1;
      if (started === 8) openGate();
      await gate;
      return load(...args);
    };
    const reads = await Promise.all(Array.from({ length: 8 }, () => service.getState('watched')));
    expect(started).toBe(8);
    expect(reads.every((read) => read.value.device_id === 'watched')).toBe(true);
  });
});
