import { parseArgs } from 'node:util';
import { AGGREGATORS } from './aggregators';
import { connectCli, type CliContext } from './context';
import { discard, formatList, formatOne, listParkedEntries, replayParked, showParked } from './parked';
import { dropOldSchema, replayAggregator, ReplayAborted, type ReplayProgress } from './replay';
import { collectStatus, formatStatus } from './status';

export const USAGE = `devpie — operate a running Devpie system (reads NATS_URL, DATABASE_URL, NAMESPACE)

  devpie status [--json]
      streams (messages, bytes), durable consumers (pending, ack pending), aggregator
      checkpoints with their lag behind EVENTS, parked messages per consumer

  devpie parked list [--consumer <name>] [--json]
  devpie parked show <seq> [--json]
  devpie parked replay <seq>
      a parked command goes back to its subject (new Nats-Msg-Id from the parked seq) and
      its parked copy is discarded; a parked event is never republished (EVENTS is the source
      of truth): the command says what to do instead (for an aggregator: devpie replay <name>)
  devpie parked discard <seq>

  devpie replay <${Object.keys(AGGREGATORS).join('|')}> [--drop-old] [--json]
      rebuilds the aggregator's views from the start of EVENTS into a new schema while the
      live one serves, then switches the apps to it in one transaction; the previous views
      are kept as <schema>_old_<timestamp> unless --drop-old
  devpie replay drop-old <schema>
      drops a previous version kept by an earlier replay

Exit codes: 0 done, 1 failed, 2 usage, 3 refused (a parked event), 4 not found.`;

type Out = {
  log(line: string): void;
  error(line: string): void;
  progress?(line: string, done: boolean): void;
};

const defaultOut: Out = {
  log: (l) => process.stdout.write(`${l}\n`),
  error: (l) => process.stderr.write(`${l}\n`),
  progress: (l, done) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${l}${done ? '\n' : ''}`);
    else process.stderr.write(`${l}\n`);
  },
};

const seconds = (s: number) =>
  s < 60
    ? `${s.toFixed(0)}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
      : `${(s / 3600).toFixed(1)}h`;

export function progressLine(p: ReplayProgress): string {
  const total = Math.max(p.lastSeq, 1);
  const fraction = Math.min(1, p.position / total);
  const width = 30;
  const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
  const eta = p.remaining === 0 ? 'caught up' : p.eta === undefined ? 'ETA ?' : `ETA ${seconds(p.eta)}`;
  return `[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${p.position}/${p.lastSeq} events  ${Math.round(
    p.rate,
  )} ev/s  ${eta}${p.phase === 'switching' ? '  switching…' : ''}`;
}

function seqArg(value: string | undefined): number {
  const n = Number(value);
  if (!value || !Number.isInteger(n) || n < 1)
    throw new UsageError('a parked message sequence (a positive integer)');
  return n;
}

class UsageError extends Error {
  constructor(what: string) {
    super(`expected ${what}`);
    this.name = 'UsageError';
  }
}

/** Runs one CLI command; returns the exit code. `env` and `out` are for tests. */
export async function run(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: Out = defaultOut,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        'drop-old': { type: 'boolean', default: false },
        consumer: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    out.error(String(err instanceof Error ? err.message : err));
    out.error(USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, sub, arg] = positionals;
  if (values.help || !command || command === 'help') {
    out.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const json = (v: unknown) => out.log(JSON.stringify(v, null, 2));

  let ctx: CliContext | undefined;
  try {
    if (!['status', 'parked', 'replay'].includes(command)) throw new UsageError('status, parked or replay');
    if (command === 'replay' && sub !== 'drop-old' && !(sub && sub in AGGREGATORS)) {
      throw new UsageError(`an aggregator: ${Object.keys(AGGREGATORS).join(', ')} (or drop-old <schema>)`);
    }
    if (command === 'parked' && !['list', 'show', 'replay', 'discard'].includes(sub ?? '')) {
      throw new UsageError('parked list|show|replay|discard');
    }
    ctx = await connectCli(env);

    if (command === 'status') {
      const s = await collectStatus(ctx);
      if (values.json) json(s);
      else out.log(formatStatus(s));
      return 0;
    }

    if (command === 'parked') {
      if (sub === 'list') {
        const entries = await listParkedEntries(ctx, values.consumer);
        if (values.json)
          json(entries.map(({ data, ...rest }) => ({ ...rest, data: new TextDecoder().decode(data) })));
        else out.log(formatList(entries));
        return 0;
      }
      const seq = seqArg(arg);
      if (sub === 'show') {
        const p = await showParked(ctx, seq);
        if (!p) {
          out.error(`no parked message ${seq}`);
          return 4;
        }
        if (values.json) json({ ...p, data: new TextDecoder().decode(p.data) });
        else out.log(formatOne(p));
        return 0;
      }
      if (sub === 'discard') {
        const done = await discard(ctx, seq);
        if (values.json) json({ seq, discarded: done });
        else out.log(done ? `discarded parked message ${seq}` : `no parked message ${seq}`);
        return done ? 0 : 4;
      }
      const r = await replayParked(ctx, seq);
      if (values.json) json(r);
      if (r.status === 'missing') {
        if (!values.json) out.error(`no parked message ${seq}`);
        return 4;
      }
      if (r.status === 'refused') {
        if (!values.json) out.error(`not replayed: ${r.advice}`);
        return 3;
      }
      if (!values.json) {
        out.log(
          `parked command ${seq} sent back to ${r.subject} (COMMANDS #${r.streamSeq}${
            r.duplicate ? ', a duplicate of an earlier replay' : ''
          }); parked copy discarded`,
        );
      }
      return 0;
    }

    // replay
    if (sub === 'drop-old') {
      if (!arg) throw new UsageError('the schema to drop (<schema>_old_<timestamp>)');
      await dropOldSchema(ctx.pool, ctx.messaging, arg);
      out.log(`dropped schema ${arg}`);
      return 0;
    }
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let last = 0;
    try {
      const result = await replayAggregator({
        messaging: ctx.messaging,
        pool: ctx.pool,
        projection: AGGREGATORS[sub!]!,
        logger: ctx.logger,
        dropOld: values['drop-old'],
        signal: abort.signal,
        onProgress: (p) => {
          const now = Date.now();
          const tty = process.stderr.isTTY;
          if (values.json || (!tty && now - last < 1000 && p.phase === 'folding')) return;
          last = now;
          out.progress?.(progressLine(p), false);
        },
      });
      if (values.json) {
        json(result);
      } else {
        out.progress?.(
          `rebuilt ${result.schema} up to EVENTS #${result.position} in ${result.seconds.toFixed(1)} s`,
          true,
        );
        out.log(
          result.oldSchema
            ? `switched: the apps read the rebuilt ${result.schema}; the previous views (position ${result.livePosition}) ${
                result.droppedOld
                  ? 'were dropped'
                  : `are kept as ${result.oldSchema} (devpie replay drop-old ${result.oldSchema})`
              }`
            : `${result.schema} did not exist: the rebuilt views are in place; the aggregator starts from position ${result.position}`,
        );
        if (result.resolvedParked.length > 0) {
          out.log(`discarded ${result.resolvedParked.length} parked event(s) the rebuilt views now contain`);
        }
        if (result.parkedByRebuild.length > 0) {
          out.log(
            `the rebuild could not fold EVENTS #${result.parkedByRebuild.join(', #')} either: see devpie parked list`,
          );
        }
      }
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      out.error(err.message);
      out.error(USAGE);
      return 2;
    }
    if (err instanceof ReplayAborted) {
      out.error(err.message);
      return 1;
    }
    out.error(`devpie ${command}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return 1;
  } finally {
    await ctx?.close();
  }
}
