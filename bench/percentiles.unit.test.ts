import { percentiles } from './percentiles';

describe('percentiles', () => {
  it('takes the nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect(percentiles(samples)).toEqual({ count: 100, mean: 50.5, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('answers zeros for no samples and the sample itself for one', () => {
    expect(percentiles([]).p99).toBe(0);
    expect(percentiles([7])).toEqual({ count: 1, mean: 7, p50: 7, p95: 7, p99: 7, max: 7 });
  });
});
