import { StageRecorder } from './stages';

describe('StageRecorder', () => {
  it('records nothing before start()', () => {
    const r = new StageRecorder();
    r.record('taken', 1_000, 5);
    r.start();
    expect(r.take(0)).toEqual({});
  });

  it('keeps only the commands created at or after `since`, per stage in first-recorded order', () => {
    const r = new StageRecorder();
    r.start();
    r.record('taken', 999, 500); // created during the warm-up: not counted
    for (let i = 1; i <= 100; i++) r.record('taken', 1_000 + i, i);
    r.record('committed projects', 1_000, 40);
    r.record('committed projects', 1_001, 60);
    const times = r.take(1_000);
    expect(Object.keys(times)).toEqual(['taken', 'committed projects']);
    expect(times.taken).toEqual({ count: 100, p50: 50, p99: 99 });
    expect(times['committed projects']).toEqual({ count: 2, p50: 40, p99: 60 });
  });

  it('stops recording and forgets what it took', () => {
    const r = new StageRecorder();
    r.start();
    r.record('taken', 5, 1);
    r.take(0);
    r.record('taken', 6, 2);
    expect(r.take(0)).toEqual({});
  });
});
