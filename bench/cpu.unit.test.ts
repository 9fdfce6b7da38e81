import { cpuLine, cpuMark, cpuSince, threadSched } from './ceilings';

const linux = process.platform === 'linux';

(linux ? test : test.skip)("the main thread's scheduler times come from /proc", () => {
  const t = threadSched(process.pid);
  expect(t).toBeDefined();
  expect(Number.isFinite(t!.runNs) && t!.runNs > 0).toBe(true);
  expect(Number.isFinite(t!.waitNs) && t!.waitNs >= 0).toBe(true);
  expect(threadSched(-1)).toBeUndefined();
});

(linux ? test : test.skip)('a phase reports how long the event loop ran and waited for a CPU', () => {
  const mark = cpuMark();
  const until = performance.now() + 60;
  while (performance.now() < until); // busy: the main thread runs (or waits for a CPU) 60 ms
  const spent = cpuSince(mark);
  // not all 60 ms: time the hypervisor takes from the vCPU (steal) is neither run nor wait
  expect(spent.mainThreads.runS + spent.mainThreads.waitS).toBeGreaterThanOrEqual(0.03);
  expect(spent.mainThreads.runS).toBeGreaterThan(0);
  expect(cpuLine(spent)).toMatch(
    /the services' event loops ran [\d.]+ s and waited [\d.]+ s for a CPU \(\d+ % of their ready time\)/,
  );
});
