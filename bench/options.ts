/** The bench's flags (`npm run bench -- --help`) and the sizes they choose. */
import { parseArgs } from 'node:util';
import { intFlag } from './ceilings';
import { LAYOUTS, type Layout } from './system';

export const SECTIONS = ['ceilings', 'pipeline', 'latency', 'http', 'replay', 'hydration'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Options {
  quick: boolean;
  seed: number;
  window: number;
  commands: number;
  /** Commands for the single board after the pipeline's mix. */
  oneBoardCommands: number;
  replayEvents: number;
  hydrationEvents: number;
  loads: number[];
  latencySeconds: number;
  /** Offered before the counted seconds at each rate, reported apart. */
  latencyWarmupSeconds: number;
  /** Created before each latency run: the mix then spreads over this many boards from its start. */
  latencyPopulation: { users: number; boards: number };
  /** Where the pipeline's services run: the pipeline runs once per layout, the latency on the first. */
  layouts: Layout[];
  /** Sections to run (default: all). */
  only: Set<Section>;
  http: { waitRequests: number; waitRates: number[]; seconds: number; connections: number };
  sizes: { publishSerial: number; publishWindowed: number; upsertBatches: number; upsertSingle: number };
}

export function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      commands: { type: 'string' },
      replay: { type: 'string' },
      hydration: { type: 'string' },
      loads: { type: 'string' },
      'latency-seconds': { type: 'string' },
      'latency-warmup': { type: 'string' },
      'latency-boards': { type: 'string' },
      'http-seconds': { type: 'string' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
      layout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run bench -- [--quick] [--commands N] [--replay N] [--hydration N]\n' +
        '                        [--loads 200,1000,3000] [--latency-seconds S] [--latency-warmup S]\n' +
        '                        [--latency-boards N] [--http-seconds S] [--seed N]\n' +
        `                        [--only ${SECTIONS.join(',')}] [--layout ${LAYOUTS.join(',')}]`,
    );
    process.exit(0);
  }
  // `npm run bench --quick` (without `--`) reaches the script as npm_config_quick, not as an argument
  const quick = values.quick || process.env.npm_config_quick === 'true';
  const loads = (values.loads ?? (quick ? '200,1000' : '200,1000,3000')).split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error('--loads: a comma-separated list of commands/s');
    return n;
  });
  const only = new Set((values.only ?? SECTIONS.join(',')).split(',') as Section[]);
  for (const s of only) {
    if (!SECTIONS.includes(s)) throw new Error(`--only: sections are ${SECTIONS.join(', ')}`);
  }
  const layouts = (values.layout ?? (quick ? 'in-process' : LAYOUTS.join(','))).split(',') as Layout[];
  for (const l of layouts) {
    if (!LAYOUTS.includes(l)) throw new Error(`--layout: a comma-separated list of ${LAYOUTS.join(', ')}`);
  }
  const latencyBoards = intFlag('latency-boards', values['latency-boards'], 100, 0);
  return {
    quick,
    only,
    layouts,
    seed: intFlag('seed', values.seed, 1, 0),
    window: 256,
    commands: intFlag('commands', values.commands, quick ? 6_000 : 60_000, 100),
    oneBoardCommands: quick ? 500 : 2_000,
    replayEvents: intFlag('replay', values.replay, quick ? 50_000 : 1_000_000, 1_000),
    hydrationEvents: intFlag('hydration', values.hydration, quick ? 2_000 : 10_000, 10),
    loads,
    latencySeconds: intFlag('latency-seconds', values['latency-seconds'], quick ? 3 : 10, 1),
    latencyWarmupSeconds: intFlag('latency-warmup', values['latency-warmup'], 1, 0),
    latencyPopulation: { users: latencyBoards, boards: latencyBoards },
    http: {
      waitRequests: quick ? 50 : 300,
      waitRates: quick ? [200] : [200, 500],
      seconds: intFlag('http-seconds', values['http-seconds'], quick ? 1 : 5, 1),
      connections: 10,
    },
    sizes: quick
      ? { publishSerial: 1_000, publishWindowed: 8_000, upsertBatches: 10, upsertSingle: 500 }
      : { publishSerial: 5_000, publishWindowed: 40_000, upsertBatches: 40, upsertSingle: 3_000 },
  };
}
