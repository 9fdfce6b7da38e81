import { KeyedQueue } from './keyed-queue';

const tick = () => new Promise((r) => setImmediate(r));

test('one task at a time per key, in order; keys run side by side up to the limit', async () => {
  const queue = new KeyedQueue(3);
  const log: string[] = [];
  let running = 0;
  let most = 0;
  const task = (name: string, turns: number) => async () => {
    running++;
    most = Math.max(most, running);
    log.push(`${name}+`);
    for (let i = 0; i < turns; i++) await tick();
    log.push(`${name}-`);
    running--;
  };
  for (let i = 0; i < 4; i++) queue.push('a', task(`a${i}`, 2));
  for (let k = 0; k < 6; k++) queue.push(`k${k}`, task(`k${k}`, 3));
  await queue.idle();
  expect(most).toBe(3);
  const a = log.filter((l) => l.startsWith('a'));
  expect(a).toEqual(['a0+', 'a0-', 'a1+', 'a1-', 'a2+', 'a2-', 'a3+', 'a3-']);
  expect(log).toHaveLength(20);
  expect(queue.size).toBe(0);
});

test('a failing task neither blocks its key nor loses its slot; idle waits for tasks still waiting for one', async () => {
  const queue = new KeyedQueue(1);
  const done: string[] = [];
  queue.push('x', async () => {
    await tick();
    throw new Error('boom');
  });
  queue.push('x', () => {
    throw new Error('synchronous boom');
  });
  queue.push('x', async () => void done.push('x after failures'));
  // waits for the single slot behind the x tasks
  const last = queue.push('y', async () => void done.push('y'));
  await queue.idle();
  expect(done.sort()).toEqual(['x after failures', 'y']);
  await expect(last.done).resolves.toBeUndefined();
});
