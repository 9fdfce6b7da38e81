/**
 * The checks must bite: each test breaks a copy of a real file the way a person might, and
 * expects the check to name the mistake.
 */
import { parse } from 'yaml';
import {
  checkConventions,
  checkDockerfile,
  checkNats,
  checkReferences,
  checkSchemas,
  checkServices,
  checkSkaffold,
  copyInputs,
  find,
  loadInputs,
  type Inputs,
} from './checks';
import { parseYamlFile, read } from './repo';

let inputs: Inputs;
beforeAll(async () => {
  inputs = await loadInputs();
});

/** A copy of the inputs in which `file` is replaced by an edited copy of its text. */
function broken(file: string, from: string | RegExp, to: string): Inputs {
  const text = read(file);
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`the edit of ${file} changed nothing`);
  const copy = copyInputs(inputs);
  if (file === 'skaffold.yaml') copy.skaffold = parse(edited);
  else if (file === 'Dockerfile') copy.dockerfile = edited;
  else if (file === '.dockerignore') copy.dockerignore = edited;
  else copy.manifests = [...copy.manifests.filter((m) => m.file !== file), ...parseYamlFile(file, edited)];
  return copy;
}

const expectProblem = (problems: string[], ...parts: string[]) =>
  expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(parts.map(escape).join('.*'))]));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Only the manifests of one file (the schema check type-checks what it is given: keep it small). */
const only = (i: Inputs, file: string): Inputs => ({
  ...i,
  manifests: i.manifests.filter((m) => m.file === file),
});

test('the unbroken inputs pass the checks', () => {
  expect(checkSchemas(only(inputs, 'k8s/identity.yaml'))).toEqual([]);
  for (const check of [checkConventions, checkReferences, checkNats, checkSkaffold, checkDockerfile]) {
    expect(check(inputs)).toEqual([]);
  }
});

test('a misspelt field, which kubectl would drop, is named', () => {
  const copy = only(broken('k8s/identity.yaml', 'readinessProbe:', 'readinesProbe:'), 'k8s/identity.yaml');
  expectProblem(checkSchemas(copy), 'identity.yaml', '\'"readinesProbe"\' does not exist');
});

test('a value of the wrong type fails kubernetes-models validation', () => {
  const copy = only(
    broken('k8s/postgres.yaml', 'containerPort: 5432', "containerPort: 'five'"),
    'k8s/postgres.yaml',
  );
  expectProblem(checkSchemas(copy), 'StatefulSet/postgres', 'containerPort must be integer');
});

test('a YAML syntax error names the file', () => {
  expect(() => parseYamlFile('k8s/x.yaml', 'a: [1, 2\nb: 3\n')).toThrow(/k8s\/x\.yaml#0/);
});

test('a Service whose selector matches no pods', () => {
  const copy = broken(
    'k8s/projects.yaml',
    /(selector:\n\s+)app\.kubernetes\.io\/name: projects-component/,
    '$1app.kubernetes.io/name: projects-komponent',
  );
  expectProblem(checkReferences(copy), 'Service/projects-component', 'matches no pod template');
});

test('a Secret key that the Secret does not have', () => {
  const copy = broken('k8s/identity.yaml', 'key: JWT_PRIVATE_KEY', 'key: JWT_KEY');
  expectProblem(checkReferences(copy), 'identity-app', 'Secret devpie-secrets key JWT_KEY');
});

test('a variable the service does not read', () => {
  const copy = broken('k8s/identity.yaml', '- name: SHUTDOWN_GRACE_MS', '- name: SHUTDOWN_GRACE');
  expectProblem(checkServices(copy), 'identity-app', 'env SHUTDOWN_GRACE is not read by identity-app');
});

test('a containerPort where the service does not listen', () => {
  const copy = broken('k8s/identity.yaml', 'containerPort: 4002', 'containerPort: 4003');
  expectProblem(checkServices(copy), 'identity-aggregator', 'containerPort must be 4002');
});

test('a probe on a path the service does not serve', () => {
  const copy = broken('k8s/identity.yaml', 'path: /readyz', 'path: /ready');
  expectProblem(checkServices(copy), 'identity-app', 'readinessProbe path /ready is not served');
});

test('a probe on a port the container does not have', () => {
  const copy = broken(
    'k8s/identity.yaml',
    /(livenessProbe:\n\s+httpGet:\n\s+path: \/healthz\n\s+port: )http/,
    '$1metrics',
  );
  expectProblem(checkConventions(copy), 'identity-app', 'livenessProbe port metrics is not a container port');
});

test('a grace period shorter than the shutdown it must cover', () => {
  const copy = broken(
    'k8s/identity.yaml',
    'terminationGracePeriodSeconds: 40',
    'terminationGracePeriodSeconds: 20',
  );
  expectProblem(checkServices(copy), 'identity-app', 'does not fit in terminationGracePeriodSeconds 20');
});

test('a second active aggregator', () => {
  const copy = copyInputs(inputs);
  find(copy, 'Deployment', 'projects-aggregator')!.doc.spec.replicas = 2;
  expectProblem(checkServices(copy), 'projects-aggregator', 'one active instance per view');
});

test('a container without limits, and an unpinned third-party image', () => {
  const copy = copyInputs(inputs);
  delete find(copy, 'Deployment', 'identity-component')!.doc.spec.template.spec.containers[0].resources
    .limits;
  find(copy, 'StatefulSet', 'postgres')!.doc.spec.template.spec.containers[0].image = 'postgres';
  const problems = checkConventions(copy);
  expectProblem(problems, 'identity-component', 'resources.limits.memory missing');
  expectProblem(problems, 'postgres', 'must be pinned');
});

test('NATS routes that miss a server, and a wrong readiness probe', () => {
  const copy = broken('k8s/nats.yaml', '        nats://nats-2.nats-headless:6222\n', '');
  expectProblem(checkNats(copy), 'nats.conf routes');
  const probe = broken('k8s/nats.yaml', '/healthz?js-server-only=true', '/healthz');
  expectProblem(checkNats(probe), 'readinessProbe /healthz?js-server-only=true');
});

test('an image in k8s/ that skaffold does not build, and an artifact nothing runs', () => {
  const copy = broken(
    'k8s/identity.yaml',
    'image: devpie-identity-component',
    'image: devpie-identity-komponent',
  );
  const problems = checkSkaffold(copy);
  expectProblem(problems, 'devpie-identity-komponent (used in k8s/) is not built');
  expectProblem(problems, 'devpie-identity-component: built but used by no manifest');
  expectProblem(checkServices(copy), 'devpie-identity-komponent is not a service');
});

test('a skaffold field that v4beta13 does not have', () => {
  const copy = broken('skaffold.yaml', 'useBuildkit: true', 'useBuildKit: true');
  expectProblem(checkSkaffold(copy), 'skaffold.yaml build.local', 'useBuildKit');
});

test('a skaffold artifact with the wrong SERVICE or target, and a sync rule that matches nothing', () => {
  const copy = broken('skaffold.yaml', 'SERVICE: identity-component', 'SERVICE: identity-app');
  expectProblem(checkSkaffold(copy), 'devpie-identity-component', 'SERVICE must be identity-component');
  const sync = broken('skaffold.yaml', "src: 'common-http/src/**/*.ts'", "src: 'common-htp/src/**/*.ts'");
  expectProblem(checkSkaffold(sync), 'common-htp/src/**/*.ts matches no file');
});

test('a Dockerfile COPY of a path that does not exist, or that .dockerignore leaves out', () => {
  const copy = broken(
    'Dockerfile',
    'FROM deps AS build\nCOPY . .',
    'FROM deps AS build\nCOPY . .\nCOPY scripts/ scripts/',
  );
  expectProblem(checkDockerfile(copy), 'COPY source scripts/ does not exist');
  const ignored = broken(
    'Dockerfile',
    'FROM deps AS build\nCOPY . .',
    'FROM deps AS build\nCOPY . .\nCOPY k8s/ k8s/',
  );
  expectProblem(checkDockerfile(ignored), 'COPY source k8s/ is excluded by .dockerignore');
  const context = broken('.dockerignore', '!tools\n', '');
  expectProblem(checkDockerfile(context), '.dockerignore excludes tools/build/main.ts');
});

test('a production image that would run as root', () => {
  const copy = broken('Dockerfile', 'USER 65532:65532', 'USER root');
  expectProblem(checkDockerfile(copy), 'production: USER must be a numeric');
});
