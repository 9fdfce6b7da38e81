import { spawn, type ChildProcess } from 'node:child_process';
import { SERVICE_NODE_FLAGS } from '@devpie/client-events/runtime/node-flags';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { sleep, waitUntil } from './servers';

export type Kind = 'app' | 'component' | 'aggregator';
export const CONTEXTS = ['identity', 'projects', 'estimation'] as const;
export type Context = (typeof CONTEXTS)[number];

const DIR: Record<Kind, string> = { app: 'applications', component: 'components', aggregator: 'aggregators' };

/**
 * One service as a child process (`node --import tsx <main.ts>`), supervised as Kubernetes or the
 * launcher would: a process that exits on its own (a crash, an aggregator that lost its Postgres
 * session) is started again after a short back-off, and counted. `kill9` is the injected crash.
 */
export class ServiceProcess {
  readonly name: string;
  readonly main: string;
  private child?: ChildProcess;
  private intended = false;
  private restartTimer?: NodeJS.Timeout;
  /** Exits the suite did not cause (each followed by a restart). */
  unexpectedExits: { code: number | null; signal: string | null; at: number }[] = [];
  kills = 0;
  starts = 0;
  private closed = false;

  constructor(
    readonly context: Context,
    readonly kind: Kind,
    readonly port: number,
    private readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {
    this.name = `${context}-${kind}`;
    this.main = path.join(DIR[kind], context, 'src', 'main.ts');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(): void {
    if (this.child || this.closed) return;
    const log = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, '--import', 'tsx', this.main], {
      cwd: this.root,
      env: this.env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.starts++;
    this.intended = false;
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.intended || this.closed) return;
      this.unexpectedExits.push({ code, signal, at: Date.now() });
      const backoff = Math.min(4000, 250 * 2 ** Math.min(4, this.unexpectedExits.length - 1));
      this.restartTimer = setTimeout(() => this.start(), backoff);
    });
  }

  /** `/readyz` answers 200: apps on their PORT, components and aggregators on their OPS_PORT. */
  async ready(timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${this.port}/readyz`, {
          signal: AbortSignal.timeout(1000),
        });
        return res.status === 200;
      },
      timeoutMs,
      `${this.name} to be ready`,
    );
  }

  /** The crash: SIGKILL, no drain, no goodbye. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.intended = true;
    this.kills++;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  }

  /** A clean stop (SIGTERM, the service drains), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    this.intended = true;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /** Stops for good: no more restarts. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    await this.stop(5000);
  }

  /** kill -9, stay down `downMs`, start again and wait until ready. */
  async crashAndRestart(downMs: number): Promise<{ downMs: number; readyMs: number }> {
    const killed = Date.now();
    await this.kill9();
    await sleep(downMs);
    const started = Date.now();
    this.start();
    await this.ready();
    return { downMs: started - killed, readyMs: Date.now() - started };
  }
}
