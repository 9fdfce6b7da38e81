import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { RUNTIME_WORKSPACES, type ServiceSpec } from './services';

export const ROOT = resolve(__dirname, '../..');

export interface BundleOptions {
  services: readonly ServiceSpec[];
  /** Where `<service>.js` (+ `.js.map`) are written; must be inside the repository so that the
   * bundles resolve `node_modules` the way they will in the image (`/app/dist`). */
  outdir: string;
  root?: string;
  minify?: boolean;
}

export interface Bundle {
  service: ServiceSpec;
  file: string;
  bytes: number;
  /** npm packages the bundle requires at run time (from node_modules, not bundled). */
  packages: string[];
}

interface LockEntry {
  dev?: boolean;
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
type Lockfile = { packages: Record<string, LockEntry> };

/**
 * The lockfile locations `npm ci --omit=dev --workspace <w>...` installs: the selected workspaces
 * (a folder selects every workspace in it) and, following node's resolution, everything they need.
 */
export function productionClosure(lock: Lockfile, workspaces: readonly string[]): Set<string> {
  const isWorkspace = (key: string) => key !== '' && !key.split('/').includes('node_modules');
  const selected = Object.keys(lock.packages).filter(
    (key) => isWorkspace(key) && workspaces.some((w) => key === w || key.startsWith(`${w}/`)),
  );
  const seen = new Set<string>();
  const queue = [...selected];
  const locate = (from: string, name: string): string | undefined => {
    const parts = from === '' ? [] : from.split('/');
    for (let i = parts.length; i >= 0; i--) {
      if (i > 0 && parts[i - 1] === 'node_modules') continue;
      const key = [...parts.slice(0, i), 'node_modules', name].join('/');
      if (lock.packages[key]) return key;
    }
    return undefined;
  };
  while (queue.length > 0) {
    const key = queue.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const entry = lock.packages[key]!;
    if (entry.link && entry.resolved) {
      queue.push(entry.resolved);
      continue;
    }
    const needed = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !entry.peerDependenciesMeta?.[n]?.optional),
    ];
    for (const name of needed) {
      const found = locate(key, name);
      if (found) queue.push(found);
    }
  }
  return seen;
}

const packageName = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const posix = (p: string): string => p.split(sep).join('/');

/**
 * Workspace code (`@devpie/*`, whose `main` is TypeScript source) is bundled; every npm package
 * stays external and is required from `node_modules` at run time. A package that npm installed
 * under a workspace (`common-http/node_modules/jwks-rsa`) rather than at the root is required by
 * its path relative to the bundle, so the same layout (copied into the image) resolves it. A
 * package the production image will not install (a devDependency, or one only a tool needs) is an error.
 */
export function nodeModulesExternal(root: string, outdir: string): Plugin {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  const production = productionClosure(lock, RUNTIME_WORKSPACES);
  return {
    name: 'node-modules-external',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        if (args.path.startsWith('node:') || isBuiltin(args.path)) return { external: true };
        if (args.path.startsWith('@devpie/')) return undefined; // workspace source: bundle it
        const found = await b.resolve(args.path, {
          resolveDir: args.resolveDir,
          kind: args.kind,
          importer: args.importer,
          pluginData: 'inner',
        });
        if (found.errors.length > 0) return { errors: found.errors };
        const name = packageName(args.path);
        const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
        const at = found.path.lastIndexOf(marker);
        if (at < 0)
          return { errors: [{ text: `${args.path} resolved outside node_modules: ${found.path}` }] };
        const pkgDir = found.path.slice(0, at + marker.length - 1);
        const lockKey = posix(relative(root, pkgDir));
        const entry = lock.packages[lockKey];
        if (!entry) return { errors: [{ text: `${lockKey} is not in package-lock.json (run npm install)` }] };
        if (!production.has(lockKey)) {
          const importer = posix(relative(root, args.importer));
          const why = entry.dev ? 'is a devDependency' : 'is not a dependency of a runtime workspace';
          return {
            errors: [
              {
                text: `${importer} needs ${name} at run time, but ${lockKey} ${why}: the production image (npm ci --omit=dev --workspace ${RUNTIME_WORKSPACES.join(' ')}) will not have it`,
              },
            ],
          };
        }
        const hoisted = dirname(pkgDir) === join(root, 'node_modules') || lockKey === `node_modules/${name}`;
        if (hoisted) return { path: args.path, external: true, pluginData: { pkg: name } };
        const rel = posix(relative(outdir, pkgDir));
        return { path: rel + args.path.slice(name.length), external: true, pluginData: { pkg: name } };
      });
    },
  };
}

/** Bundles each service's composition root into `<outdir>/<service>.js` (CommonJS, Node 20). */
export async function bundle(opts: BundleOptions): Promise<Bundle[]> {
  const root = opts.root ?? ROOT;
  const outdir = resolve(opts.outdir);
  const absent = opts.services.filter((s) => !existsSync(join(root, s.entry)));
  if (absent.length > 0) {
    throw new Error(`no composition root for ${absent.map((s) => `${s.name} (${s.entry})`).join(', ')}`);
  }
  const plugin = nodeModulesExternal(root, outdir);
  return Promise.all(
    opts.services.map(async (service) => {
      const file = join(outdir, `${service.name}.js`);
      const result = await build({
        absWorkingDir: root,
        entryPoints: [join(root, service.entry)],
        outfile: file,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        sourcemap: true,
        sourcesContent: false,
        minify: opts.minify ?? false,
        keepNames: true,
        metafile: true,
        logLevel: 'silent',
        legalComments: 'none',
        plugins: [plugin],
      });
      return {
        service,
        file,
        bytes: outputBytes(result.metafile, file, root),
        packages: externals(result.metafile),
      };
    }),
  );
}

function outputBytes(meta: Metafile, file: string, root: string): number {
  return meta.outputs[posix(relative(root, file))]?.bytes ?? 0;
}

function externals(meta: Metafile): string[] {
  const out = new Set<string>();
  for (const input of Object.values(meta.inputs)) {
    for (const imp of input.imports) {
      if (!imp.external || imp.path.startsWith('<') || imp.path.startsWith('node:') || isBuiltin(imp.path))
        continue;
      const p = imp.path.replace(/^(\.\.\/)+([^/]+\/)*node_modules\//, '');
      out.add(packageName(p));
    }
  }
  return [...out].sort();
}
