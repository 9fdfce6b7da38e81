/**
 * The deployable units of the system: nine services and the setup job. One list that the build
 * (`npm run build`), the dev container (`tools/dev.ts`), the Dockerfile's SERVICE argument,
 * skaffold's artifacts and the k8s checks all agree on. Ports, variables and probe paths are
 * not repeated here: the checks read them from each service's own code.
 */
export const CONTEXTS = ['identity', 'projects', 'estimation'] as const;
export type Context = (typeof CONTEXTS)[number];
export type ServiceKind = 'app' | 'component' | 'aggregator' | 'setup';

export interface ServiceSpec {
  /** `identity-app`: the SERVICE build argument and the bundle name `dist/<name>.js`. */
  readonly name: string;
  readonly kind: ServiceKind;
  readonly context?: Context;
  /** Composition root, relative to the repository root. */
  readonly entry: string;
  /** Image name in k8s/ and skaffold.yaml. */
  readonly image: string;
}

const dirs = { app: 'applications', component: 'components', aggregator: 'aggregators' } as const;

export const SERVICES: readonly ServiceSpec[] = [
  ...CONTEXTS.flatMap((context) =>
    (['app', 'component', 'aggregator'] as const).map((kind) => ({
      name: `${context}-${kind}`,
      kind,
      context,
      entry: `${dirs[kind]}/${context}/src/main.ts`,
      image: `devpie-${context}-${kind}`,
    })),
  ),
  { name: 'setup', kind: 'setup', entry: 'tools/setup/main.ts', image: 'devpie-setup' },
];

export function serviceNamed(name: string): ServiceSpec {
  const spec = SERVICES.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown service "${name}"; one of: ${SERVICES.map((s) => s.name).join(', ')}`);
  return spec;
}

export const serviceOfImage = (image: string): ServiceSpec | undefined =>
  SERVICES.find((s) => s.image === image);

/**
 * The workspaces whose production dependencies the image installs (`npm ci --omit=dev --workspace`,
 * a folder selects every workspace in it): everything the bundles require must come from these.
 */
export const RUNTIME_WORKSPACES = [
  'common-events',
  'common-http',
  'applications',
  'components',
  'aggregators',
];
