/**
 * The offline checks of k8s/, skaffold.yaml and the Dockerfile. Each returns a list of problems
 * (empty when all is well), naming the file, the object and what is wrong, so that a test can
 * assert on it and a deliberately broken copy can prove that the check bites.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RUNTIME_WORKSPACES, SERVICES, serviceOfImage } from '../../tools/build/services';
import {
  dockerignore,
  execForm,
  parseCopy,
  parseDockerfile,
  type Dockerfile,
  type Stage,
} from './dockerfile';
import { unknownFields, validateModels } from './kube-schema';
import { exists, label, loadManifests, parseYamlFile, read, ROOT, type Manifest } from './repo';
import { skaffoldConfig, type Artifact, type SkaffoldConfig } from './skaffold-schema';
import { allTruths, type ServiceTruth } from './truth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export interface Inputs {
  manifests: Manifest[];
  /** k8s/secret.example.yaml: the Secret's shape (not deployed; created by the script) */
  secretExample: Manifest[];
  /** infra/scripts/k8s-secret.sh */
  secretScript: string;
  /** skaffold.yaml, parsed */
  skaffold: unknown;
  dockerfile: string;
  dockerignore: string;
  /** by image name */
  truths: Map<string, ServiceTruth>;
}

export async function loadInputs(): Promise<Inputs> {
  return {
    manifests: loadManifests(),
    secretExample: parseYamlFile('k8s/secret.example.yaml', read('k8s/secret.example.yaml')),
    secretScript: read('infra/scripts/k8s-secret.sh'),
    skaffold: parseYaml(read('skaffold.yaml')) as unknown,
    dockerfile: read('Dockerfile'),
    dockerignore: read('.dockerignore'),
    truths: await allTruths(),
  };
}

/** A deep copy to break on purpose. */
export const copyInputs = (i: Inputs): Inputs => ({
  ...i,
  manifests: structuredClone(i.manifests),
  secretExample: structuredClone(i.secretExample),
  skaffold: structuredClone(i.skaffold),
});

export const find = (i: Inputs, kind: string, name: string): Manifest | undefined =>
  i.manifests.find((m) => m.doc.kind === kind && m.doc.metadata?.name === name);

// ---------------------------------------------------------------------------------------------
// helpers

interface Workload {
  m: Manifest;
  pod: Obj;
  labels: Record<string, string>;
}

function workloads(i: Inputs): Workload[] {
  return i.manifests
    .filter((m) => ['Deployment', 'StatefulSet', 'Job'].includes(m.doc.kind))
    .map((m) => ({
      m,
      pod: m.doc.spec?.template?.spec ?? {},
      labels: m.doc.spec?.template?.metadata?.labels ?? {},
    }));
}

interface Container {
  w: Workload;
  c: Obj;
  init: boolean;
  where: string;
}

function containers(i: Inputs): Container[] {
  return workloads(i).flatMap((w) => [
    ...((w.pod.initContainers ?? []) as Obj[]).map((c) => ({
      w,
      c,
      init: true,
      where: `${label(w.m)} initContainer ${c.name}`,
    })),
    ...((w.pod.containers ?? []) as Obj[]).map((c) => ({
      w,
      c,
      init: false,
      where: `${label(w.m)} container ${c.name}`,
    })),
  ]);
}

const configMapData = (i: Inputs, name: string): Record<string, string> | undefined =>
  find(i, 'ConfigMap', name)?.doc.data;

const secretData = (i: Inputs, name: string): Record<string, string> | undefined => {
  const s = i.secretExample.find((m) => m.doc.kind === 'Secret' && m.doc.metadata?.name === name);
  return s ? { ...(s.doc.data ?? {}), ...(s.doc.stringData ?? {}) } : undefined;
};

/** The container's environment as name → value (a value from a ref resolved where possible). */
function environment(i: Inputs, c: Obj): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  for (const from of (c.envFrom ?? []) as Obj[]) {
    const data = from.configMapRef
      ? configMapData(i, from.configMapRef.name)
      : from.secretRef
        ? secretData(i, from.secretRef.name)
        : undefined;
    for (const [k, v] of Object.entries(data ?? {})) env.set(k, String(v));
  }
  for (const e of (c.env ?? []) as Obj[]) {
    const ref = e.valueFrom;
    const value =
      e.value ??
      (ref?.configMapKeyRef
        ? configMapData(i, ref.configMapKeyRef.name)?.[ref.configMapKeyRef.key]
        : undefined) ??
      (ref?.secretKeyRef ? secretData(i, ref.secretKeyRef.name)?.[ref.secretKeyRef.key] : undefined);
    env.set(e.name, value === undefined ? undefined : String(value));
  }
  return env;
}

const QUANTITY = /^(\d+(?:\.\d+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const FACTOR: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  Ki: 1024,
  M: 1e6,
  Mi: 1024 ** 2,
  G: 1e9,
  Gi: 1024 ** 3,
  T: 1e12,
  Ti: 1024 ** 4,
};
export function quantity(q: unknown): number | undefined {
  const m = QUANTITY.exec(String(q));
  return m ? Number(m[1]) * FACTOR[m[2] ?? '']! : undefined;
}

/** The container port a probe or Service names (by name or number). */
function portOf(c: Obj, port: unknown): Obj | undefined {
  return ((c.ports ?? []) as Obj[]).find((p) => p.name === port || p.containerPort === port);
}

const probesOf = (c: Obj): [string, Obj][] =>
  (['startupProbe', 'livenessProbe', 'readinessProbe'] as const)
    .filter((k) => c[k])
    .map((k) => [k, c[k]] as [string, Obj]);

const isDevpieImage = (image: string): boolean =>
  serviceOfImage(image) !== undefined || image.startsWith('devpie-');

// ---------------------------------------------------------------------------------------------
// Kubernetes schemas

export function checkSchemas(i: Inputs): string[] {
  const all = [...i.manifests, ...i.secretExample];
  return [...validateModels(all), ...unknownFields(all)];
}

// ---------------------------------------------------------------------------------------------
// conventions for the fields written here: names, labels, resources, probes, security, grace

export function checkConventions(i: Inputs): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const m of [...i.manifests, ...i.secretExample]) {
    const key = `${m.doc.kind}/${m.doc.metadata?.name}`;
    if (seen.has(key) && !i.secretExample.includes(m)) problems.push(`${label(m)}: defined twice`);
    seen.add(key);
    if (m.doc.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'devpie') {
      problems.push(`${label(m)}: label app.kubernetes.io/part-of: devpie missing`);
    }
  }
  for (const w of workloads(i)) {
    const selector = w.m.doc.spec?.selector?.matchLabels;
    if (w.m.doc.kind !== 'Job') {
      if (!selector || Object.keys(selector).length === 0)
        problems.push(`${label(w.m)}: no selector.matchLabels`);
      for (const [k, v] of Object.entries(selector ?? {})) {
        if (w.labels[k] !== v)
          problems.push(`${label(w.m)}: selector ${k}=${String(v)} does not match its pods`);
      }
      if (typeof w.pod.terminationGracePeriodSeconds !== 'number') {
        problems.push(`${label(w.m)}: terminationGracePeriodSeconds not set`);
      }
    }
    if (w.pod.securityContext?.runAsNonRoot !== true)
      problems.push(`${label(w.m)}: pods must run as non-root`);
  }
  for (const { c, w, init, where } of containers(i)) {
    for (const kind of ['cpu', 'memory'] as const) {
      const request = quantity(c.resources?.requests?.[kind]);
      const limit = quantity(c.resources?.limits?.[kind]);
      if (request === undefined) problems.push(`${where}: resources.requests.${kind} missing or invalid`);
      if (limit === undefined) problems.push(`${where}: resources.limits.${kind} missing or invalid`);
      if (request !== undefined && limit !== undefined && request > limit) {
        problems.push(`${where}: ${kind} request above its limit`);
      }
    }
    if (c.securityContext?.allowPrivilegeEscalation !== false) {
      problems.push(`${where}: securityContext.allowPrivilegeEscalation must be false`);
    }
    if (!(c.securityContext?.capabilities?.drop ?? []).includes('ALL')) {
      problems.push(`${where}: securityContext.capabilities.drop must include ALL`);
    }
    if (typeof c.image !== 'string' || c.image === '') {
      problems.push(`${where}: no image`);
    } else if (!isDevpieImage(c.image)) {
      const tag = /:([^/:]+)$/.exec(c.image)?.[1];
      if (!tag || tag === 'latest')
        problems.push(`${where}: third-party image ${c.image} must be pinned to a version`);
    }
    const longRunning = !init && w.m.doc.kind !== 'Job';
    if (longRunning && (!c.readinessProbe || !c.livenessProbe)) {
      problems.push(`${where}: readinessProbe and livenessProbe required`);
    }
    for (const [kind, probe] of probesOf(c)) {
      const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
      if (port !== undefined && !portOf(c, port))
        problems.push(`${where}: ${kind} port ${String(port)} is not a container port`);
    }
    for (const mount of (c.volumeMounts ?? []) as Obj[]) {
      const volumes = [
        ...((w.pod.volumes ?? []) as Obj[]).map((v) => v.name),
        ...((w.m.doc.spec?.volumeClaimTemplates ?? []) as Obj[]).map((v) => v.metadata?.name),
      ];
      if (!volumes.includes(mount.name)) problems.push(`${where}: volumeMount ${mount.name} has no volume`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// references between objects: ConfigMaps, the Secret, Services → pods, Ingress → Services

export function checkReferences(i: Inputs): string[] {
  const problems: string[] = [];
  for (const { c, where } of containers(i)) {
    for (const from of (c.envFrom ?? []) as Obj[]) {
      if (from.configMapRef && !configMapData(i, from.configMapRef.name)) {
        problems.push(`${where}: envFrom ConfigMap ${from.configMapRef.name} does not exist`);
      }
      if (from.secretRef && !secretData(i, from.secretRef.name)) {
        problems.push(`${where}: envFrom Secret ${from.secretRef.name} is not in k8s/secret.example.yaml`);
      }
    }
    for (const e of (c.env ?? []) as Obj[]) {
      const cm = e.valueFrom?.configMapKeyRef;
      if (cm && configMapData(i, cm.name)?.[cm.key] === undefined) {
        problems.push(
          `${where}: env ${e.name} refers to ConfigMap ${cm.name} key ${cm.key}, which does not exist`,
        );
      }
      const s = e.valueFrom?.secretKeyRef;
      if (s && secretData(i, s.name)?.[s.key] === undefined) {
        problems.push(
          `${where}: env ${e.name} refers to Secret ${s.name} key ${s.key}, not in k8s/secret.example.yaml`,
        );
      }
    }
  }
  for (const w of workloads(i)) {
    for (const v of (w.pod.volumes ?? []) as Obj[]) {
      if (v.configMap && !configMapData(i, v.configMap.name)) {
        problems.push(
          `${label(w.m)}: volume ${v.name} refers to ConfigMap ${v.configMap.name}, which does not exist`,
        );
      }
    }
    if (w.m.doc.kind === 'StatefulSet') {
      const svc = find(i, 'Service', w.m.doc.spec.serviceName);
      if (!svc) problems.push(`${label(w.m)}: serviceName ${w.m.doc.spec.serviceName} is not a Service`);
      else if (svc.doc.spec?.clusterIP !== 'None')
        problems.push(`${label(w.m)}: its serviceName must be headless`);
    }
  }
  // every Service selects pods, and every port it forwards exists on them
  for (const svc of i.manifests.filter((m) => m.doc.kind === 'Service')) {
    const selector: Record<string, string> = svc.doc.spec?.selector ?? {};
    const pods = workloads(i).filter(
      (w) =>
        Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => w.labels[k] === v),
    );
    if (pods.length === 0) {
      problems.push(`${label(svc)}: selector ${JSON.stringify(selector)} matches no pod template`);
      continue;
    }
    for (const p of (svc.doc.spec?.ports ?? []) as Obj[]) {
      const target = p.targetPort ?? p.port;
      for (const w of pods) {
        if (!((w.pod.containers ?? []) as Obj[]).some((c) => portOf(c, target))) {
          problems.push(
            `${label(svc)}: port ${p.name ?? p.port} targets ${String(target)}, not a port of ${label(w.m)}`,
          );
        }
      }
    }
  }
  for (const ing of i.manifests.filter((m) => m.doc.kind === 'Ingress')) {
    for (const rule of (ing.doc.spec?.rules ?? []) as Obj[]) {
      for (const path of (rule.http?.paths ?? []) as Obj[]) {
        const backend = path.backend?.service;
        const svc = backend && find(i, 'Service', backend.name);
        if (!svc) {
          problems.push(`${label(ing)}: ${path.path} goes to Service ${backend?.name}, which does not exist`);
          continue;
        }
        const port = backend.port?.name ?? backend.port?.number;
        if (!((svc.doc.spec?.ports ?? []) as Obj[]).some((p) => p.name === port || p.port === port)) {
          problems.push(
            `${label(ing)}: ${path.path} goes to port ${String(port)}, not a port of Service ${backend.name}`,
          );
        }
      }
    }
  }
  return problems;
}

/** Ingress routes: path prefix → Service (and so the application owning that part of the API). */
export function ingressRoutes(i: Inputs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ing of i.manifests.filter((m) => m.doc.kind === 'Ingress')) {
    for (const rule of (ing.doc.spec?.rules ?? []) as Obj[]) {
      for (const path of (rule.http?.paths ?? []) as Obj[]) {
        out[`${path.pathType} ${path.path}`] = path.backend?.service?.name;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the services as their code has them: variables, ports, probe paths, grace, replicas

export function checkServices(i: Inputs, dockerfile = parseDockerfile(i.dockerfile)): string[] {
  const problems: string[] = [];
  const prodCmd = execForm(
    stage(dockerfile, 'production')
      ?.instructions.filter((x) => x.op === 'CMD')
      .at(-1)?.args ?? '',
  );
  for (const { c, w, init, where } of containers(i)) {
    const spec = serviceOfImage(c.image);
    if (!spec) {
      if (typeof c.image === 'string' && c.image.startsWith('devpie-')) {
        problems.push(`${where}: ${c.image} is not a service of tools/build/services.ts`);
      }
      continue;
    }
    const truth = i.truths.get(c.image);
    if (!truth || truth.missing) continue; // the service is not written yet: nothing to hold it to
    const env = environment(i, c);
    for (const name of env.keys()) {
      if (!truth.env.has(name))
        problems.push(`${where}: env ${name} is not read by ${spec.name} (${spec.entry})`);
    }
    for (const name of ['NATS_URL', 'DATABASE_URL']) {
      if (!env.has(name))
        problems.push(`${where}: ${name} not set (its default is the developer's localhost)`);
    }
    if (spec.name === 'identity-app' && !init && !env.has('JWT_PRIVATE_KEY')) {
      problems.push(`${where}: JWT_PRIVATE_KEY not set: every replica would sign with its own key`);
    }
    if (truth.env.has('JWKS_URL') && !init && !env.has('JWKS_URL')) {
      problems.push(`${where}: JWKS_URL not set (its default is the developer's localhost)`);
    }
    if (c.command) problems.push(`${where}: command replaces the image's node entrypoint`);
    if (c.args && prodCmd && JSON.stringify(c.args.slice(0, prodCmd.length)) !== JSON.stringify(prodCmd)) {
      problems.push(`${where}: args must start with the image's CMD ${JSON.stringify(prodCmd)}`);
    }
    if (init) {
      if (spec.name !== 'setup' || !(c.args ?? []).includes('--wait')) {
        problems.push(`${where}: the init container must be the setup image with --wait`);
      }
      continue;
    }

    // the port it serves, as its code has it (or as the manifest moves it)
    const ports = (c.ports ?? []) as Obj[];
    if (!truth.listen) {
      if (ports.length > 0 || probesOf(c).length > 0) {
        problems.push(
          `${where}: ${spec.name} serves no HTTP port (no PORT, or no OPS_PORT with serveOps, in ${spec.entry})`,
        );
      }
    } else {
      const configured = env.get(truth.listen.variable);
      const port = configured === undefined ? truth.listen.port : Number(configured);
      if (ports.length !== 1 || ports[0].containerPort !== port) {
        problems.push(
          `${where}: containerPort must be ${port}, where ${spec.name} listens (${truth.listen.variable})`,
        );
      }
      for (const [kind, probe] of probesOf(c)) {
        const path = String(probe.httpGet?.path ?? '').split('?')[0]!;
        if (!probe.httpGet)
          problems.push(`${where}: ${kind} should be an httpGet on the service's probe paths`);
        else if (!truth.paths.has(path)) {
          problems.push(`${where}: ${kind} path ${path} is not served (${[...truth.paths].join(', ')})`);
        }
      }
      if (c.readinessProbe?.httpGet?.path !== '/readyz')
        problems.push(`${where}: readinessProbe should use /readyz`);
      if (c.livenessProbe?.httpGet?.path !== '/healthz')
        problems.push(`${where}: livenessProbe should use /healthz`);
    }

    // SIGTERM: the preStop pause plus the service's own shutdown fit in the grace period
    if (w.m.doc.kind === 'Deployment') {
      const graceMs = Number(env.get('SHUTDOWN_GRACE_MS') ?? truth.defaults.SHUTDOWN_GRACE_MS ?? NaN);
      const preStop = Number(c.lifecycle?.preStop?.sleep?.seconds ?? 0);
      const period = Number(w.pod.terminationGracePeriodSeconds ?? 30);
      if (!(preStop + graceMs / 1000 < period)) {
        problems.push(
          `${where}: preStop ${preStop} s + SHUTDOWN_GRACE_MS ${graceMs} ms does not fit in terminationGracePeriodSeconds ${period}`,
        );
      }
      const hasWait = ((w.pod.initContainers ?? []) as Obj[]).some((x) => x.image === 'devpie-setup');
      if (!hasWait)
        problems.push(
          `${label(w.m)}: no wait-for-setup init container: it could start before the streams exist`,
        );
      if (spec.kind === 'aggregator') {
        if (w.m.doc.spec?.replicas !== 1 || w.m.doc.spec?.strategy?.type !== 'Recreate') {
          problems.push(
            `${label(w.m)}: an aggregator runs one active instance per view: replicas 1, strategy Recreate`,
          );
        }
      }
    }
    if (spec.kind === 'setup' && w.m.doc.kind !== 'Job') problems.push(`${label(w.m)}: setup runs as a Job`);
  }
  // every service has its Deployment and Service, the setup its Job
  for (const s of SERVICES) {
    const kind = s.kind === 'setup' ? 'Job' : 'Deployment';
    const runs = containers(i).some((x) => !x.init && x.c.image === s.image && x.w.m.doc.kind === kind);
    if (!runs) problems.push(`${s.name}: no ${kind} runs ${s.image}`);
    if (s.kind !== 'setup') {
      const w = workloads(i).find((x) =>
        ((x.pod.containers ?? []) as Obj[]).some((c) => c.image === s.image),
      );
      const svc = w && find(i, 'Service', w.m.doc.metadata.name);
      if (!svc) problems.push(`${s.name}: no Service named like its Deployment`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// NATS cluster, PostgreSQL and the Secret

const natsConf = (i: Inputs): string => configMapData(i, 'nats-config')?.['nats.conf'] ?? '';

export function checkNats(i: Inputs): string[] {
  const problems: string[] = [];
  const sts = find(i, 'StatefulSet', 'nats');
  if (!sts) return ['StatefulSet/nats missing'];
  const where = label(sts);
  const conf = natsConf(i);
  const pod = sts.doc.spec.template.spec;
  const c = ((pod.containers ?? []) as Obj[]).find((x) => x.name === 'nats');
  if (!c) return [`${where}: no container named nats`];
  const replicas = Number(sts.doc.spec.replicas);
  if (replicas !== 3) problems.push(`${where}: JetStream cluster of 3 expected, replicas ${replicas}`);
  const headless = sts.doc.spec.serviceName;
  const port = (name: string) => portOf(c, name)?.containerPort;
  const confPort = (re: RegExp) => Number(re.exec(conf)?.[1]);
  if (confPort(/^listen:\s*[\d.]*:(\d+)/m) !== port('client'))
    problems.push(`${where}: client port differs from nats.conf listen`);
  if (confPort(/^http_port:\s*(\d+)/m) !== port('monitor'))
    problems.push(`${where}: monitor port differs from nats.conf http_port`);
  if (confPort(/cluster\s*{[^}]*listen:\s*[\d.]*:(\d+)/) !== port('cluster')) {
    problems.push(`${where}: cluster port differs from nats.conf cluster.listen`);
  }
  const routes = [...(/routes:\s*\[([^\]]*)\]/.exec(conf)?.[1] ?? '').matchAll(/nats:\/\/(\S+)/g)].map(
    (m) => m[1],
  );
  const expected = Array.from({ length: replicas }, (_, n) => `nats-${n}.${headless}:${port('cluster')}`);
  if (JSON.stringify(routes) !== JSON.stringify(expected)) {
    problems.push(
      `${where}: nats.conf routes ${JSON.stringify(routes)}, expected ${JSON.stringify(expected)}`,
    );
  }
  if (!/^server_name:\s*\$SERVER_NAME\s*$/m.test(conf))
    problems.push(`${where}: nats.conf server_name must be $SERVER_NAME`);
  const serverName = ((c.env ?? []) as Obj[]).find((e) => e.name === 'SERVER_NAME');
  if (serverName?.valueFrom?.fieldRef?.fieldPath !== 'metadata.name') {
    problems.push(`${where}: SERVER_NAME must come from the pod name (fieldRef metadata.name)`);
  }
  const probe = (p: Obj) => `${p?.httpGet?.path}@${p?.httpGet?.port}`;
  if (probe(c.startupProbe) !== '/healthz?js-enabled-only=true@monitor')
    problems.push(`${where}: startupProbe /healthz?js-enabled-only=true on monitor expected`);
  if (probe(c.livenessProbe) !== '/healthz?js-enabled-only=true@monitor')
    problems.push(`${where}: livenessProbe /healthz?js-enabled-only=true on monitor expected`);
  if (probe(c.readinessProbe) !== '/healthz?js-server-only=true@monitor')
    problems.push(`${where}: readinessProbe /healthz?js-server-only=true on monitor expected`);
  const pidFile = /^pid_file:\s*(\S+)/m.exec(conf)?.[1];
  const preStop = ((c.lifecycle?.preStop?.exec?.command ?? []) as string[]).join(' ');
  if (!pidFile || preStop !== `nats-server -sl=ldm=${pidFile}`) {
    problems.push(`${where}: preStop must put the server in lame duck mode: nats-server -sl=ldm=<pid_file>`);
  }
  const mounts = (c.volumeMounts ?? []) as Obj[];
  if (pidFile && !mounts.some((v) => pidFile.startsWith(`${v.mountPath}/`)))
    problems.push(`${where}: pid_file directory not mounted`);
  const storeDir = /store_dir:\s*(\S+)/.exec(conf)?.[1];
  const dataMount = mounts.find((v) => v.mountPath === storeDir);
  const claims = ((sts.doc.spec.volumeClaimTemplates ?? []) as Obj[]).map((v) => v.metadata?.name);
  if (!dataMount || !claims.includes(dataMount.name))
    problems.push(`${where}: JetStream store_dir must be on a PVC`);
  const seconds = (re: RegExp) => Number(/(\d+)s/.exec(re.exec(conf)?.[1] ?? '')?.[1] ?? NaN);
  const lameDuck = seconds(/lame_duck_duration:\s*(\S+)/) + seconds(/lame_duck_grace_period:\s*(\S+)/);
  if (!(lameDuck < Number(pod.terminationGracePeriodSeconds))) {
    problems.push(
      `${where}: terminationGracePeriodSeconds must exceed lame duck duration + grace (${lameDuck} s)`,
    );
  }
  if (sts.doc.spec.podManagementPolicy !== 'Parallel')
    problems.push(`${where}: podManagementPolicy Parallel: the cluster forms only when all start`);
  const svc = find(i, 'Service', headless);
  if (svc && svc.doc.spec?.publishNotReadyAddresses !== true) {
    problems.push(
      `${label(svc)}: publishNotReadyAddresses: the servers must find each other before they are ready`,
    );
  }
  // what the services connect to and how many copies the streams keep
  const common = configMapData(i, 'devpie-common') ?? {};
  const urls = String(common.NATS_URL ?? '').split(',');
  const expectedUrls = Array.from(
    { length: replicas },
    (_, n) => `nats://nats-${n}.${headless}:${port('client')}`,
  );
  if (JSON.stringify(urls) !== JSON.stringify(expectedUrls)) {
    problems.push(`ConfigMap/devpie-common: NATS_URL should list every server: ${expectedUrls.join(',')}`);
  }
  if (Number(common.STREAM_REPLICAS) !== replicas) {
    problems.push(
      `ConfigMap/devpie-common: STREAM_REPLICAS ${common.STREAM_REPLICAS}, the cluster has ${replicas} servers`,
    );
  }
  return problems;
}

export function checkPostgresAndSecret(i: Inputs): string[] {
  const problems: string[] = [];
  const sts = find(i, 'StatefulSet', 'postgres');
  if (!sts) return ['StatefulSet/postgres missing'];
  const c = sts.doc.spec.template.spec.containers?.[0];
  if (!c?.readinessProbe) problems.push(`${label(sts)}: readinessProbe missing`);
  if (!(sts.doc.spec.volumeClaimTemplates ?? []).length)
    problems.push(`${label(sts)}: data must be on a PVC`);
  const env = environment(i, c ?? {});
  const svc = find(i, 'Service', sts.doc.spec.serviceName);
  const secret = secretData(i, 'devpie-secrets') ?? {};
  const url = /^postgres:\/\/([^:]+):([^@]+)@([^:/]+):(\d+)\/(\S+)$/.exec(secret.DATABASE_URL ?? '');
  if (!url)
    problems.push('Secret/devpie-secrets: DATABASE_URL must be postgres://user:password@host:port/db');
  else {
    const [, user, password, host, port, db] = url;
    if (user !== env.get('POSTGRES_USER'))
      problems.push(`Secret/devpie-secrets: DATABASE_URL user ${user} is not POSTGRES_USER`);
    if (db !== env.get('POSTGRES_DB'))
      problems.push(`Secret/devpie-secrets: DATABASE_URL database ${db} is not POSTGRES_DB`);
    if (password !== secret.POSTGRES_PASSWORD)
      problems.push('Secret/devpie-secrets: DATABASE_URL password is not POSTGRES_PASSWORD');
    if (
      !svc ||
      host !== svc.doc.metadata.name ||
      !svc.doc.spec.ports.some((p: Obj) => String(p.port) === port)
    ) {
      problems.push(`Secret/devpie-secrets: DATABASE_URL ${host}:${port} is not the postgres Service`);
    }
  }
  // the script creates exactly the keys the manifests read, DATABASE_URL as above
  const created = [...i.secretScript.matchAll(/--from-(?:literal|file)=([A-Z_]+)=/g)]
    .map((m) => m[1]!)
    .sort();
  const example = Object.keys(secret).sort();
  if (JSON.stringify(created) !== JSON.stringify(example)) {
    problems.push(
      `infra/scripts/k8s-secret.sh creates ${created.join(', ')}; k8s/secret.example.yaml has ${example.join(', ')}`,
    );
  }
  if (
    url &&
    !i.secretScript.includes(`DATABASE_URL="postgres://${url[1]}:\${password}@${url[3]}:${url[4]}/${url[5]}"`)
  ) {
    problems.push(
      'infra/scripts/k8s-secret.sh: DATABASE_URL is not built like the example (user, host, port, database)',
    );
  }
  const used = new Set<string>();
  for (const { c: x } of containers(i)) {
    for (const e of (x.env ?? []) as Obj[])
      if (e.valueFrom?.secretKeyRef) used.add(e.valueFrom.secretKeyRef.key);
  }
  for (const key of example)
    if (!used.has(key)) problems.push(`Secret/devpie-secrets: ${key} is read by no manifest`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// skaffold.yaml

export function checkSkaffold(i: Inputs, dockerfile = parseDockerfile(i.dockerfile)): string[] {
  const parsed = skaffoldConfig.safeParse(i.skaffold);
  if (!parsed.success) {
    return parsed.error.issues.map((x) => `skaffold.yaml ${x.path.join('.')}: ${x.message}`);
  }
  const cfg: SkaffoldConfig = parsed.data;
  const problems: string[] = [];
  const k8sImages = new Set(
    containers(i)
      .map((x) => String(x.c.image))
      .filter(isDevpieImage),
  );
  const args = declaredArgs(dockerfile);
  const stages = new Set(dockerfile.stages.map((s) => s.name));

  const checkArtifacts = (where: string, artifacts: Artifact[], target: (a: Artifact) => string) => {
    const images = artifacts.map((a) => a.image);
    if (new Set(images).size !== images.length) problems.push(`${where}: an image is built twice`);
    for (const image of k8sImages)
      if (!images.includes(image)) problems.push(`${where}: ${image} (used in k8s/) is not built`);
    for (const a of artifacts) {
      const at = `${where} ${a.image}`;
      if (!k8sImages.has(a.image)) problems.push(`${at}: built but used by no manifest in k8s/`);
      const spec = serviceOfImage(a.image);
      if (!spec) problems.push(`${at}: not a service of tools/build/services.ts`);
      if ((a.context ?? '.') !== '.')
        problems.push(`${at}: context must be the repository root (npm workspaces)`);
      if (!a.docker) {
        problems.push(`${at}: built with the Dockerfile (docker:) expected`);
        continue;
      }
      if (!exists(a.docker.dockerfile ?? 'Dockerfile'))
        problems.push(`${at}: ${a.docker.dockerfile} does not exist`);
      if (!a.docker.target || !stages.has(a.docker.target))
        problems.push(`${at}: target ${a.docker.target} is not a stage`);
      if (a.docker.target !== target(a))
        problems.push(`${at}: target ${target(a)} expected, not ${a.docker.target}`);
      for (const arg of Object.keys(a.docker.buildArgs ?? {})) {
        if (!args.has(arg)) problems.push(`${at}: build arg ${arg} is not declared in the Dockerfile`);
      }
      if (spec && a.docker.buildArgs?.SERVICE !== spec.name)
        problems.push(`${at}: SERVICE must be ${spec.name}`);
    }
  };
  checkArtifacts('skaffold.yaml build', cfg.build?.artifacts ?? [], () => 'production');

  const dev = cfg.profiles?.find((p) => p.name === 'dev');
  if (!dev) problems.push('skaffold.yaml: no dev profile');
  else {
    if (!dev.activation?.some((a) => a.command === 'dev'))
      problems.push('skaffold.yaml dev profile: not activated by `skaffold dev`');
    const devTarget = (a: Artifact) => (serviceOfImage(a.image)?.kind === 'setup' ? 'production' : 'dev');
    const artifacts = dev.build?.artifacts ?? [];
    checkArtifacts('skaffold.yaml dev profile', artifacts, devTarget);
    const workdir =
      stage(dockerfile, 'dev')
        ?.instructions.filter((x) => x.op === 'WORKDIR')
        .at(-1)?.args ?? workdirOf(dockerfile, 'dev');
    for (const a of artifacts) {
      const rules = a.sync?.manual ?? [];
      if (devTarget(a) === 'dev' && rules.length === 0)
        problems.push(`skaffold.yaml dev ${a.image}: no manual sync of .ts sources`);
      if (devTarget(a) !== 'dev' && rules.length > 0)
        problems.push(`skaffold.yaml dev ${a.image}: synced but not a watcher image`);
      for (const rule of rules) {
        if (!rule.src.endsWith('.ts'))
          problems.push(`skaffold.yaml dev ${a.image}: sync ${rule.src} is not .ts sources`);
        if (globFiles(rule.src).length === 0)
          problems.push(`skaffold.yaml dev ${a.image}: sync ${rule.src} matches no file`);
        if (rule.dest !== workdir)
          problems.push(
            `skaffold.yaml dev ${a.image}: sync dest ${rule.dest} is not the image's WORKDIR ${workdir}`,
          );
      }
    }
    const forwards = dev.portForward ?? [];
    const wanted = [
      ...SERVICES.filter((s) => s.kind === 'app').map((s) => ({
        svc: s.name,
        port: i.truths.get(s.image)?.listen?.port,
      })),
      {
        svc: 'nats',
        port: portOf(find(i, 'StatefulSet', 'nats')?.doc.spec.template.spec.containers[0] ?? {}, 'monitor')
          ?.containerPort,
      },
    ];
    for (const w of wanted) {
      if (w.port === undefined) continue;
      if (!forwards.some((f) => f.resourceName === w.svc && f.port === w.port)) {
        problems.push(`skaffold.yaml dev profile: no portForward of service ${w.svc} port ${w.port}`);
      }
    }
    for (const f of forwards) {
      const svc = f.resourceType.toLowerCase() === 'service' ? find(i, 'Service', f.resourceName) : undefined;
      if (!svc) problems.push(`skaffold.yaml portForward: service ${f.resourceName} does not exist`);
      else if (!(svc.doc.spec.ports as Obj[]).some((p) => p.port === f.port)) {
        problems.push(`skaffold.yaml portForward: service ${f.resourceName} has no port ${f.port}`);
      }
    }
  }
  const raw = cfg.manifests?.rawYaml ?? [];
  const deployed = readdirSync(join(ROOT, 'k8s'))
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.example.yaml'))
    .map((f) => `k8s/${f}`);
  for (const f of raw) if (!exists(f)) problems.push(`skaffold.yaml rawYaml: ${f} does not exist`);
  for (const f of deployed)
    if (!raw.includes(f)) problems.push(`skaffold.yaml rawYaml: ${f} is not deployed`);
  for (const hook of cfg.deploy?.kubectl?.hooks?.before ?? []) {
    const script = hook.host?.command.find((x) => x.endsWith('.sh'));
    if (script && !exists(script)) problems.push(`skaffold.yaml deploy hook: ${script} does not exist`);
  }
  return problems;
}

/** Repository files a skaffold sync glob matches (`*` within a segment, `**` across). */
export function globFiles(glob: string): string[] {
  const re = new RegExp(
    `^${glob
      .split('**/')
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
      .join('(?:.*/)?')}$`,
  );
  const top = glob.split('/')[0]!.includes('*') ? '.' : glob.split('/')[0]!;
  if (!exists(top)) return [];
  return readdirSync(join(ROOT, top), { recursive: true, encoding: 'utf8' })
    .map((f) => (top === '.' ? f : `${top}/${f}`))
    .filter((f) => !f.includes('node_modules') && re.test(f));
}

// ---------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore

const stage = (d: Dockerfile, name: string): Stage | undefined => d.stages.find((s) => s.name === name);

function workdirOf(d: Dockerfile, name: string): string | undefined {
  let s = stage(d, name);
  while (s) {
    const w = s.instructions.filter((x) => x.op === 'WORKDIR').at(-1);
    if (w) return w.args;
    s = stage(d, s.base);
  }
  return undefined;
}

function declaredArgs(d: Dockerfile): Set<string> {
  const out = new Set(d.globalArgs.keys());
  for (const s of d.stages)
    for (const x of s.instructions) if (x.op === 'ARG') out.add(x.args.split('=')[0]!);
  return out;
}

export function checkDockerfile(i: Inputs): string[] {
  const problems: string[] = [];
  const d = parseDockerfile(i.dockerfile);
  const ignored = dockerignore(i.dockerignore);
  const names = new Set<string>();
  for (const s of d.stages) {
    const at = `Dockerfile:${s.line} stage ${s.name ?? '(unnamed)'}`;
    const base = s.base.replace(/^\$\{?(\w+)\}?$/, (_, v: string) => d.globalArgs.get(v) ?? `$${v}`);
    if (!names.has(s.base) && (!/:[^/:]+$/.test(base) || base.endsWith(':latest'))) {
      problems.push(`${at}: base image ${base} must be pinned (or be an earlier stage)`);
    }
    for (const x of s.instructions.filter((y) => y.op === 'COPY' || y.op === 'ADD')) {
      const { flags, sources } = parseCopy(x.args);
      if (flags.from) {
        if (!names.has(flags.from))
          problems.push(`Dockerfile:${x.line}: COPY --from=${flags.from} is not an earlier stage`);
        continue;
      }
      for (const src of sources) {
        if (!exists(src)) problems.push(`Dockerfile:${x.line}: COPY source ${src} does not exist`);
        else if (src !== '.' && ignored(src))
          problems.push(`Dockerfile:${x.line}: COPY source ${src} is excluded by .dockerignore`);
      }
    }
    if (s.name) names.add(s.name);
  }
  const last = d.stages.at(-1);
  if (last?.name !== 'production')
    problems.push('Dockerfile: production must be the last stage (the default target)');
  for (const [name, uid] of [
    ['production', 'non-root'],
    ['dev', 'non-root'],
  ] as const) {
    const s = stage(d, name);
    if (!s) {
      problems.push(`Dockerfile: no ${name} stage`);
      continue;
    }
    const user = s.instructions.filter((x) => x.op === 'USER').at(-1)?.args;
    if (!user || !/^[1-9]\d*(:\d+)?$/.test(user))
      problems.push(`Dockerfile ${name}: USER must be a numeric ${uid} uid (runAsNonRoot)`);
    const cmd = execForm(s.instructions.filter((x) => x.op === 'CMD').at(-1)?.args ?? '');
    if (!cmd) problems.push(`Dockerfile ${name}: CMD must be in exec form`);
    else {
      const script = cmd.find((a) => /\.(ts|js)$/.test(a));
      if (
        name === 'dev' &&
        (!cmd.some((a) => a.endsWith('tsx')) || !cmd.includes('watch') || !script || !exists(script))
      ) {
        problems.push(
          `Dockerfile dev: CMD must run tsx watch on an existing entry, not ${JSON.stringify(cmd)}`,
        );
      }
      if (name === 'production' && script !== 'dist/main.js')
        problems.push('Dockerfile production: CMD must run dist/main.js');
    }
    if (!s.instructions.some((x) => x.op === 'ARG' && x.args === 'SERVICE') && name === 'dev') {
      problems.push('Dockerfile dev: ARG SERVICE missing');
    }
  }
  // the production install is exactly the runtime workspaces the build checks bundles against
  const prod =
    stage(d, 'prod-deps')?.instructions.find((x) => x.op === 'RUN' && x.args.includes('npm ci'))?.args ?? '';
  const workspaces = [...prod.matchAll(/--workspace=(\S+)/g)].map((m) => m[1]);
  if (!/--omit=dev/.test(prod)) problems.push('Dockerfile prod-deps: npm ci must --omit=dev');
  if (JSON.stringify(workspaces) !== JSON.stringify(RUNTIME_WORKSPACES)) {
    problems.push(
      `Dockerfile prod-deps: --workspace ${workspaces.join(' ')} differs from RUNTIME_WORKSPACES ${RUNTIME_WORKSPACES.join(' ')}`,
    );
  }
  if (!stage(d, 'build')?.instructions.some((x) => x.op === 'RUN' && x.args === 'npm run build')) {
    problems.push('Dockerfile build: must RUN npm run build');
  }
  // what the image build needs is in the context; what it must not see is not
  const rootPackage = JSON.parse(read('package.json')) as {
    workspaces: string[];
    scripts: Record<string, string>;
  };
  if (!rootPackage.scripts.build) problems.push('package.json: no build script');
  const needed = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.base.json',
    'tools/build/main.ts',
    'tools/build/dev.ts',
    ...SERVICES.map((s) => s.entry).filter(exists),
    ...workspacePackages(rootPackage.workspaces),
  ];
  for (const f of needed)
    if (ignored(f)) problems.push(`.dockerignore excludes ${f}, which the image build needs`);
  for (const f of ['node_modules/x', 'common-http/node_modules/x', 'dist/x.js', '.data/x', '.git/HEAD']) {
    if (!ignored(f)) problems.push(`.dockerignore lets ${f} into the build context`);
  }
  return problems;
}

function workspacePackages(patterns: string[]): string[] {
  return patterns.flatMap((p) => {
    if (!p.endsWith('/*')) return [`${p}/package.json`];
    const dir = p.slice(0, -2);
    return exists(dir)
      ? readdirSync(join(ROOT, dir))
          .map((d) => `${dir}/${d}/package.json`)
          .filter(exists)
      : [];
  });
}
