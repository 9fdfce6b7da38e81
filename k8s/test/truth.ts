/**
 * What the services really read and serve, taken from their code rather than restated: the keys of
 * their zod config schemas (imported), the `baseConfig.extend({...})` and `opsPort(n)` in each
 * main.ts (parsed), `process.env.X` in the shared runtime, and the probe paths the HTTP kit and
 * the ops server answer.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { baseConfig } from '@devpie/client-events';
import { SERVICES, type ServiceSpec } from '../../tools/build/services';
import { exists, read, ROOT } from './repo';

export interface ServiceTruth {
  service: ServiceSpec;
  /** the composition root is not there (yet) */
  missing: boolean;
  /** every environment variable the service reads */
  env: Set<string>;
  /** the port it serves and the variable that moves it */
  listen?: { variable: 'PORT' | 'OPS_PORT'; port: number };
  /** paths answered at the root of that port (probes) */
  paths: Set<string>;
  /** defaults of variables that the checks compare with the manifests */
  defaults: Record<string, number>;
}

interface MainFacts {
  extendKeys: string[];
  opsPorts: Record<string, number>;
  calls: Set<string>;
  identifiers: Set<string>;
}

/** The parts of a main.ts the checks need, from its syntax tree. */
export function mainFacts(source: string): MainFacts {
  const file = ts.createSourceFile('main.ts', source, ts.ScriptTarget.ES2022, true);
  const facts: MainFacts = { extendKeys: [], opsPorts: {}, calls: new Set(), identifiers: new Set() };
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node)) facts.identifiers.add(node.text);
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (ts.isIdentifier(callee)) facts.calls.add(callee.text);
      if (
        ts.isPropertyAccessExpression(callee) &&
        callee.name.text === 'extend' &&
        node.arguments[0] &&
        ts.isObjectLiteralExpression(node.arguments[0])
      ) {
        for (const prop of node.arguments[0].properties) {
          if (!ts.isPropertyAssignment(prop)) continue;
          const key = prop.name.getText(file).replace(/^['"]|['"]$/g, '');
          facts.extendKeys.push(key);
          const init = prop.initializer;
          if (
            ts.isCallExpression(init) &&
            ts.isIdentifier(init.expression) &&
            init.expression.text === 'opsPort' &&
            init.arguments[0] &&
            ts.isNumericLiteral(init.arguments[0])
          ) {
            facts.opsPorts[key] = Number(init.arguments[0].text);
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return facts;
}

const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('testing/'))
    .map((f) => `${dir}/${f}`);

const matches = (text: string, re: RegExp): string[] => [...text.matchAll(re)].map((m) => m[1]!);

/** The runtime's service runners, all of which end in runUntilSignalled. */
const SERVICE_RUNNERS = ['runUntilSignalled', 'runComponentService', 'runAggregatorService'];

/** `process.env.X` read by the runtime every bundle contains, with numeric defaults (`?? 25_000`). */
function runtimeEnv(calls: Set<string>): { names: Set<string>; defaults: Record<string, number> } {
  const names = new Set<string>();
  const defaults: Record<string, number> = {};
  for (const f of [...sources('common-events/src/runtime'), ...sources('common-http/src')]) {
    // SHUTDOWN_GRACE_MS is read by runUntilSignalled: only by the services that call it
    if (f.endsWith('runtime/service.ts') && !SERVICE_RUNNERS.some((r) => calls.has(r))) continue;
    const text = read(f);
    for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)(?:\s*\?\?\s*([\d_]+))?/g)) {
      names.add(m[1]!);
      if (m[2]) defaults[m[1]!] = Number(m[2].replace(/_/g, ''));
    }
  }
  return { names, defaults };
}

interface ZodLike {
  shape: Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;
}
const isZodObject = (v: unknown): v is ZodLike =>
  typeof v === 'object' && v !== null && 'shape' in v && typeof (v as ZodLike).shape === 'object';

/** Default of one schema key when the variable is unset (undefined when it has none). */
const defaultOf = (schema: ZodLike, key: string): unknown => {
  const r = schema.shape[key]?.safeParse(undefined);
  return r?.success ? r.data : undefined;
};

export async function serviceTruth(service: ServiceSpec): Promise<ServiceTruth> {
  const truth: ServiceTruth = { service, missing: false, env: new Set(), paths: new Set(), defaults: {} };
  if (!exists(service.entry)) return { ...truth, missing: true };
  const srcDir = dirname(service.entry);
  const facts = mainFacts(read(service.entry));

  // 1. zod schemas exported by the service's config module
  const configModule = `${srcDir}/config.ts`;
  if (exists(configModule)) {
    const mod = (await import(join(ROOT, configModule))) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (!isZodObject(value)) continue;
      for (const key of Object.keys(value.shape)) truth.env.add(key);
      const port = defaultOf(value, 'PORT');
      if (typeof port === 'number') truth.listen = { variable: 'PORT', port };
    }
  }
  // 2. inline schemas in main.ts: baseConfig and its .extend({ KEY: ..., OPS_PORT: opsPort(n) })
  if (facts.identifiers.has('baseConfig'))
    for (const key of Object.keys(baseConfig.shape)) truth.env.add(key);
  for (const key of facts.extendKeys) truth.env.add(key);
  const ops = facts.opsPorts.OPS_PORT;
  const servesOps = ['serveOps', 'runComponentService', 'runAggregatorService'].some((c) =>
    facts.calls.has(c),
  );
  if (ops !== undefined && servesOps) truth.listen = { variable: 'OPS_PORT', port: ops };
  // 3. variables the shared runtime reads directly
  const runtime = runtimeEnv(facts.calls);
  for (const name of runtime.names) truth.env.add(name);
  Object.assign(truth.defaults, runtime.defaults);

  // probe paths: the HTTP kit's (apps) or the ops server's (components, aggregators)
  if (truth.listen?.variable === 'PORT') {
    for (const p of matches(read('common-http/src/app.ts'), /\bapp\.get\(\s*'(\/[^']*)'/g))
      truth.paths.add(p);
    for (const f of sources(srcDir)) {
      for (const p of matches(read(f), /\broot\.get\(\s*'(\/[^']*)'/g)) truth.paths.add(p);
    }
  } else if (truth.listen?.variable === 'OPS_PORT') {
    for (const p of matches(read('common-events/src/runtime/ops-server.ts'), /url === '(\/[^']*)'/g)) {
      truth.paths.add(p);
    }
  }
  return truth;
}

export const allTruths = async (): Promise<Map<string, ServiceTruth>> =>
  new Map(await Promise.all(SERVICES.map(async (s) => [s.image, await serviceTruth(s)] as const)));
