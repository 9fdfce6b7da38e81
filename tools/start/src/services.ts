import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type Kind = 'app' | 'component' | 'aggregator';
export const CONTEXTS = ['identity', 'projects', 'estimation'] as const;
export type Context = (typeof CONTEXTS)[number];

export interface Service {
  /** `identity-app`, `projects-component`, `estimation-aggregator`, ... (what `SERVICE=` takes). */
  name: string;
  context: Context;
  kind: Kind;
  /** The composition root, relative to the repository root. */
  main: string;
  /** The HTTP API port of an app, or the ops port (/healthz, /readyz, /metrics) of the others. */
  port: number;
}

/** Default ports: apps on 4000/4020/4040, each context's component and aggregator on +1 and +2. */
const BASE: Record<Context, number> = { identity: 4000, projects: 4020, estimation: 4040 };
const DIR: Record<Kind, string> = { app: 'applications', component: 'components', aggregator: 'aggregators' };
const OFFSET: Record<Kind, number> = { app: 0, component: 1, aggregator: 2 };

/** The nine services, in start order (consumers before the apps that feed them). */
export function services(portOffset = 0): Service[] {
  const out: Service[] = [];
  for (const kind of ['component', 'aggregator', 'app'] as const) {
    for (const context of CONTEXTS) {
      out.push({
        name: `${context}-${kind}`,
        context,
        kind,
        main: `${DIR[kind]}/${context}/src/main.ts`,
        port: BASE[context] + OFFSET[kind] + portOffset,
      });
    }
  }
  return out;
}

export const serviceNames = (): string[] => services().map((s) => s.name);

/** Whether the service's main.ts exists yet (slices land one by one). */
export const exists = (root: string, s: Service): boolean => existsSync(path.join(root, s.main));

/**
 * Whether the service listens on a port the launcher can probe: apps always; components and
 * aggregators when their main reads `OPS_PORT` (serves /healthz and /readyz).
 */
export function probed(root: string, s: Service): boolean {
  if (s.kind === 'app') return true;
  return readFileSync(path.join(root, s.main), 'utf8').includes('OPS_PORT');
}

export interface Wiring {
  natsUrl: string;
  databaseUrl: string;
  dataDir: string;
  /** The identity app's port: where the other apps fetch the JWKS. */
  identityPort: number;
}

/**
 * The environment of one child: the launcher's own, the servers it settled on, and this service's
 * port. Variables the user set explicitly (JWKS_URL, JWT_PRIVATE_KEY_FILE) win.
 */
export function childEnv(s: Service, w: Wiring, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, NATS_URL: w.natsUrl, DATABASE_URL: w.databaseUrl };
  delete env.SERVICE;
  delete env.PORT;
  delete env.OPS_PORT;
  if (s.kind === 'app') env.PORT = String(s.port);
  else env.OPS_PORT = String(s.port);
  if (s.name === 'identity-app') {
    env.JWT_PRIVATE_KEY_FILE = base.JWT_PRIVATE_KEY_FILE ?? path.join(w.dataDir, 'jwt', 'private.pem');
  } else if (s.kind === 'app') {
    env.JWKS_URL = base.JWKS_URL ?? `http://localhost:${w.identityPort}/.well-known/jwks.json`;
  }
  return env;
}
