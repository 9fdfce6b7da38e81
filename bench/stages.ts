import { percentiles } from './percentiles';

/** p50/p99 (ms) of one stage over the commands it saw. */
export interface StageTime {
  count: number;
  p50: number;
  p99: number;
}

/** Stage name → its times, in the order the stages were first recorded. */
export type StageTimes = Record<string, StageTime>;

/**
 * Where a command's time goes on its way to the views: for each stage (taken by its component,
 * outcome appended, in an aggregator's fold, committed), the ms since the command was created.
 * Samples carry the command's creation time (epoch ms), so that a run can count only the
 * commands created after its warm-up began; recording is off until `start()`.
 */
export class StageRecorder {
  private samples = new Map<string, { sentAt: number[]; ms: number[] }>();
  private on = false;

  start(): void {
    this.samples.clear();
    this.on = true;
  }

  record(stage: string, sentAt: number, ms: number): void {
    if (!this.on) return;
    let s = this.samples.get(stage);
    if (!s) this.samples.set(stage, (s = { sentAt: [], ms: [] }));
    s.sentAt.push(sentAt);
    s.ms.push(ms);
  }

  /** The stages of the commands created at or after `since` (epoch ms); stops recording. */
  take(since: number): StageTimes {
    const out: StageTimes = {};
    for (const [stage, s] of this.samples) {
      const p = percentiles(s.ms.filter((_, i) => s.sentAt[i]! >= since));
      if (p.count > 0) out[stage] = { count: p.count, p50: p.p50, p99: p.p99 };
    }
    this.samples.clear();
    this.on = false;
    return out;
  }
}
