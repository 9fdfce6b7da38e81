import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const COLORS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[31m' };
const PALETTE = [
  '\x1b[36m',
  '\x1b[32m',
  '\x1b[35m',
  '\x1b[34m',
  '\x1b[33m',
  '\x1b[96m',
  '\x1b[92m',
  '\x1b[95m',
];
const RESET = '\x1b[0m';
const WIDTH = 21;

export interface LogOptions {
  /** `json` keeps each service's pino lines as they are (after the prefix). */
  format: 'pretty' | 'json';
  color: boolean;
  write(line: string): void;
}

const colorOf = (name: string) =>
  PALETTE[[...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 8]!;

export function prefix(name: string, opts: LogOptions): string {
  const label = name.padEnd(WIDTH);
  return opts.color ? `${colorOf(name)}${label}${RESET}│ ` : `${label}│ `;
}

/** One line of a service's output, as printed: pino JSON made readable, anything else as it is. */
export function formatLine(name: string, line: string, opts: LogOptions): string {
  if (opts.format === 'json' || !line.startsWith('{')) return prefix(name, opts) + line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return prefix(name, opts) + line;
  }
  const { level, time, msg, pid: _pid, hostname: _host, name: _name, err, ...rest } = entry;
  const clock = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lvl = LEVELS[Number(level)] ?? String(level);
  const color = opts.color ? (COLORS[Number(level)] ?? '') : '';
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const error =
    err && typeof err === 'object'
      ? `\n${String((err as { stack?: string; message?: string }).stack ?? (err as { message?: string }).message)}`
      : '';
  const text = `${clock} ${color}${lvl}${color ? RESET : ''} ${String(msg ?? '')}${extra ? ` ${extra}` : ''}${error}`;
  return text
    .split('\n')
    .map((l) => prefix(name, opts) + l)
    .join('\n');
}

/** Prints every line of a child's stream with the service name in front. */
export function pipeLines(name: string, stream: Readable | null, opts: LogOptions): void {
  if (!stream) return;
  createInterface({ input: stream }).on('line', (line) => opts.write(formatLine(name, line, opts)));
}
