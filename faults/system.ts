import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  connectMessaging,
  createPool,
  deleteStreams,
  ensureStreams,
  ident,
  Names,
  type Messaging,
  type Pool,
} from '@devpie/client-events';
import { CONTEXTS, ServiceProcess, type Context, type Kind } from './processes';
import { freePort } from './servers';

export interface SystemOptions {
  root: string;
  /** Temporary directory: logs, the JWT key. */
  dir: string;
  natsUrl: string;
  databaseUrl: string;
  namespace?: string;
  logLevel?: string;
}

/**
 * The nine services as child processes in a fresh namespace, plus the suite's own NATS connection
 * and Postgres pool for injecting faults and checking.
 */
export class System {
  readonly names: Names;
  readonly services: ServiceProcess[] = [];
  messaging!: Messaging;
  pool!: Pool;

  private constructor(readonly opts: SystemOptions) {
    this.names = new Names(opts.namespace ?? `f${randomBytes(5).toString('hex')}`);
  }

  get namespace(): string {
    return this.names.namespace;
  }

  service(context: Context, kind: Kind): ServiceProcess {
    return this.services.find((s) => s.context === context && s.kind === kind)!;
  }

  /** Base URL of an app's API. */
  api(context: Context): string {
    return `http://127.0.0.1:${this.service(context, 'app').port}/api/v1`;
  }

  static async start(opts: SystemOptions): Promise<System> {
    const sys = new System(opts);
    sys.messaging = await connectMessaging({ servers: opts.natsUrl, name: 'fault-suite', names: sys.names });
    sys.pool = createPool(opts.databaseUrl, 8);
    sys.pool.on('error', () => undefined); // idle connections die when the suite restarts Postgres
    await ensureStreams(sys.messaging, { replicas: 1 });
    const ports = new Map<string, number>();
    for (const kind of ['component', 'aggregator', 'app'] as const)
      for (const context of CONTEXTS) ports.set(`${context}-${kind}`, await freePort());
    const identityPort = ports.get('identity-app')!;
    for (const kind of ['component', 'aggregator', 'app'] as const) {
      for (const context of CONTEXTS) {
        const name = `${context}-${kind}`;
        const port = ports.get(name)!;
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          NATS_URL: opts.natsUrl,
          DATABASE_URL: opts.databaseUrl,
          NAMESPACE: sys.namespace,
          LOG_LEVEL: opts.logLevel ?? 'warn',
          SHUTDOWN_GRACE_MS: '8000',
          [kind === 'app' ? 'PORT' : 'OPS_PORT']: String(port),
        };
        delete env[kind === 'app' ? 'OPS_PORT' : 'PORT'];
        if (name === 'identity-app') {
          Object.assign(env, {
            JWT_PRIVATE_KEY_FILE: path.join(opts.dir, 'jwt', 'private.pem'),
            SCRYPT_N: '1024',
            SIGNIN_LIMIT_PER_CLIENT: '100000',
            SIGNIN_LIMIT_PER_ADDRESS: '100000',
          });
        } else if (kind === 'app') {
          env.JWKS_URL = `http://127.0.0.1:${identityPort}/.well-known/jwks.json`;
        }
        sys.services.push(
          new ServiceProcess(context, kind, port, opts.root, env, path.join(opts.dir, `${name}.log`)),
        );
      }
    }
    try {
      await sys.startServices();
    } catch (err) {
      await sys.close();
      throw err;
    }
    return sys;
  }

  private async startServices(): Promise<void> {
    // consumers first (their durables exist before anything is sent), identity before the apps that fetch its keys
    for (const s of this.services.filter((x) => x.kind !== 'app')) s.start();
    await Promise.all(this.services.filter((s) => s.kind !== 'app').map((s) => s.ready(60_000)));
    const identity = this.service('identity', 'app');
    identity.start();
    await identity.ready(60_000);
    const apps = this.services.filter((s) => s.kind === 'app' && s !== identity);
    for (const s of apps) s.start();
    await Promise.all(apps.map((s) => s.ready(60_000)));
  }

  /** Unexpected exits per service (the supervisor restarted each). */
  exits(): Record<string, number> {
    return Object.fromEntries(
      this.services
        .filter((s) => s.unexpectedExits.length > 0)
        .map((s) => [s.name, s.unexpectedExits.length]),
    );
  }

  /** Stops every child, deletes the namespace's streams and drops its schemas. */
  async close(): Promise<void> {
    await Promise.all(this.services.map((s) => s.close()));
    if (this.messaging && !this.messaging.nc.isClosed()) {
      await deleteStreams(this.messaging).catch(() => undefined);
      await this.messaging.nc.close().catch(() => undefined);
    }
    if (this.pool) {
      const { rows } = await this.pool
        .query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [
          `${this.namespace}\\_%`,
        ])
        .catch(() => ({ rows: [] as { nspname: string }[] }));
      for (const r of rows)
        await this.pool.query(`DROP SCHEMA ${ident(r.nspname)} CASCADE`).catch(() => undefined);
      await this.pool.end().catch(() => undefined);
    }
  }
}
