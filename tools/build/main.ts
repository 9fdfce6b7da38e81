/**
 * `npm run build`: bundles every service (and the setup job) into dist/<service>.js with esbuild.
 *   --only identity-app,setup   a subset
 *   --outdir <dir>              somewhere else inside the repository (default dist)
 */
import { join } from 'node:path';
import { SERVICES, serviceNamed } from './services';
import { bundle, ROOT } from './bundle';

async function run() {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only = flag('--only');
  const services = only ? only.split(',').map((s) => serviceNamed(s.trim())) : SERVICES;
  const outdir = flag('--outdir') ?? join(ROOT, 'dist');
  const started = Date.now();
  const bundles = await bundle({ services, outdir });
  for (const b of bundles) {
    console.log(`${b.file}  ${(b.bytes / 1024).toFixed(0)} KiB  requires ${b.packages.join(' ')}`);
  }
  console.log(`${bundles.length} bundles in ${Date.now() - started} ms`);
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
