import { createLogger } from '@vtv/kit';
import { PollingJob } from './jobs';

const logger = createLogger('jobs-test', 'silent');
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PollingJob', () => {
  it('runs again at once while there is work, then waits the interval; a poke ends the wait', async () => {
    const queue = [3, 2, 1];
    let runs = 0;
    const job = new PollingJob({
      name: 'test',
      intervalMs: 60_000,
      logger,
      run: async () => {
        runs += 1;
        return queue.length ? queue.shift()! : 0;
      },
    });
    job.start();
    await tick(50);
    expect(runs).toBe(4); // three with work, one that found none; then idle
    queue.push(1);
    job.poke();
    await tick(50);
    expect(runs).toBe(6);
    await job.stop();
  });

  it('backs off after failures instead of spinning, and stop() ends a backoff', async () => {
    let runs = 0;
    const job = new PollingJob({
      name: 'failing',
      intervalMs: 20,
      maxBackoffMs: 10_000,
      logger,
      run: async () => {
        runs += 1;
        throw new Error('down');
      },
    });
    job.start();
    await tick(300);
    job.poke(); // must not cut a backoff short
    await tick(20);
    // 20·2^n jittered: a handful of runs in 320 ms, not hundreds.
    expect(runs).toBeGreaterThan(1);
    expect(runs).toBeLessThan(8);
    const started = Date.now();
    await job.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
