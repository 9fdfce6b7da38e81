import { SERVICE_NODE_FLAGS } from '@devpie/client-events/runtime/node-flags';
import { SERVICES } from '../../tools/build/services';
import { checkDockerfile, checkSkaffold, globFiles, loadInputs, type Inputs } from './checks';
import { dockerignore, parseCopy, parseDockerfile } from './dockerfile';

let inputs: Inputs;
beforeAll(async () => {
  inputs = await loadInputs();
});

test('skaffold.yaml is valid v4beta13 and builds exactly the images k8s/ runs', () => {
  expect(checkSkaffold(inputs)).toEqual([]);
  const artifacts = (inputs.skaffold as { build: { artifacts: { image: string }[] } }).build.artifacts;
  expect(artifacts.map((a) => a.image).sort()).toEqual(SERVICES.map((s) => s.image).sort());
});

test('the Dockerfile: COPY sources exist and are in the context, non-root production and dev stages', () => {
  expect(checkDockerfile(inputs)).toEqual([]);
});

test('the production image runs every service with the node flags the launcher and the fault suite use', () => {
  const production = parseDockerfile(inputs.dockerfile).stages.find((s) => s.name === 'production')!;
  const cmd = JSON.parse(production.instructions.filter((x) => x.op === 'CMD').at(-1)!.args) as string[];
  expect(cmd.slice(0, SERVICE_NODE_FLAGS.length)).toEqual(SERVICE_NODE_FLAGS);
  expect(cmd.at(-1)).toBe('dist/main.js');
});

test('the Dockerfile parser reads stages, continuations and COPY flags', () => {
  const d = parseDockerfile(
    'ARG BASE=node:20-slim\nFROM ${BASE} AS a\nRUN echo 1 \\\n  && echo 2\nFROM a AS b\nCOPY --from=a --chown=1:1 /x /y\n',
  );
  expect(d.globalArgs.get('BASE')).toBe('node:20-slim');
  expect(d.stages.map((s) => [s.name, s.base])).toEqual([
    ['a', '${BASE}'],
    ['b', 'a'],
  ]);
  expect(d.stages[0]!.instructions[0]!.args).toBe('echo 1    && echo 2');
  expect(parseCopy('--from=a --chown=1:1 /x /y')).toEqual({
    flags: { from: 'a', chown: '1:1' },
    sources: ['/x'],
    dest: '/y',
  });
});

test('.dockerignore matching follows Docker: anchored, parents match, ! re-includes, last match wins', () => {
  const ignored = dockerignore('*\n!src\n**/node_modules\nsrc/**/*.test.ts\n!src/keep.test.ts\n');
  expect(ignored('README.md')).toBe(true);
  expect(ignored('src/a/b.ts')).toBe(false);
  expect(ignored('src/node_modules/x/index.js')).toBe(true);
  expect(ignored('src/a/b.test.ts')).toBe(true);
  expect(ignored('src/keep.test.ts')).toBe(false);
  expect(ignored('other/src/a.ts')).toBe(true);
});

test('sync globs are matched like skaffold matches them', () => {
  expect(globFiles('common-events/src/**/*.ts')).toContain('common-events/src/runtime/service.ts');
  expect(globFiles('applications/*/src/**/*.ts')).toContain('applications/identity/src/main.ts');
  expect(globFiles('nowhere/**/*.ts')).toEqual([]);
});
