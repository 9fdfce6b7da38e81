/**
 * The part of skaffold's v4beta13 configuration schema this repository uses, field names and types
 * as in skaffold's published JSON schema (docs-v2/content/en/schemas/v4beta13.json), every object
 * strict: a misspelt or misplaced field fails here instead of being ignored by skaffold.
 */
import { z } from 'zod';

const strings = z.array(z.string());
const stringMap = z.record(z.string(), z.string());

const hostHook = z.strictObject({
  command: strings.min(1),
  os: strings.optional(),
  dir: z.string().optional(),
});
const containerHook = z.strictObject({ command: strings.min(1) });
const namedContainerHook = z.strictObject({
  command: strings.min(1),
  podName: z.string(),
  containerName: z.string().optional(),
});

const syncRule = z.strictObject({
  src: z.string().min(1),
  dest: z.string().min(1),
  strip: z.string().optional(),
});
const sync = z.strictObject({
  manual: z.array(syncRule).optional(),
  infer: strings.optional(),
  auto: z.boolean().optional(),
  hooks: z
    .strictObject({
      before: z
        .array(z.strictObject({ host: hostHook.optional(), container: containerHook.optional() }))
        .optional(),
      after: z
        .array(z.strictObject({ host: hostHook.optional(), container: containerHook.optional() }))
        .optional(),
    })
    .optional(),
});

const dockerArtifact = z.strictObject({
  dockerfile: z.string().optional(),
  target: z.string().optional(),
  buildArgs: stringMap.optional(),
  network: z.string().optional(),
  addHost: strings.optional(),
  cacheFrom: strings.optional(),
  cacheTo: strings.optional(),
  cliFlags: strings.optional(),
  pullParent: z.boolean().optional(),
  noCache: z.boolean().optional(),
  squash: z.boolean().optional(),
  secrets: z
    .array(z.strictObject({ id: z.string(), src: z.string().optional(), env: z.string().optional() }))
    .optional(),
  ssh: z.string().optional(),
});

export const artifact = z.strictObject({
  image: z.string().min(1),
  context: z.string().optional(),
  sync: sync.optional(),
  platforms: strings.optional(),
  runtimeType: z.string().optional(),
  docker: dockerArtifact.optional(),
});

const build = z.strictObject({
  artifacts: z.array(artifact).min(1),
  insecureRegistries: strings.optional(),
  platforms: strings.optional(),
  tagPolicy: z
    .strictObject({
      gitCommit: z
        .strictObject({
          variant: z.enum(['Tags', 'CommitSha', 'AbbrevCommitSha', 'TreeSha', 'AbbrevTreeSha']).optional(),
          prefix: z.string().optional(),
          ignoreChanges: z.boolean().optional(),
        })
        .optional(),
      sha256: z.strictObject({}).optional(),
      inputDigest: z.strictObject({}).optional(),
      envTemplate: z.strictObject({ template: z.string() }).optional(),
      dateTime: z.strictObject({ format: z.string().optional(), timezone: z.string().optional() }).optional(),
    })
    .optional(),
  local: z
    .strictObject({
      push: z.boolean().optional(),
      tryImportMissing: z.boolean().optional(),
      useDockerCLI: z.boolean().optional(),
      useBuildkit: z.boolean().optional(),
      concurrency: z.number().int().optional(),
    })
    .optional(),
});

const manifests = z.strictObject({
  rawYaml: strings.optional(),
  kustomize: z.strictObject({ paths: strings.optional(), buildArgs: strings.optional() }).optional(),
  output: z.string().optional(),
});

const deployHookItem = z.strictObject({
  host: hostHook.optional(),
  container: namedContainerHook.optional(),
});
const deploy = z.strictObject({
  kubectl: z
    .strictObject({
      flags: z
        .strictObject({
          global: strings.optional(),
          apply: strings.optional(),
          delete: strings.optional(),
          disableValidation: z.boolean().optional(),
        })
        .optional(),
      remoteManifests: strings.optional(),
      defaultNamespace: z.string().optional(),
      hooks: z
        .strictObject({
          before: z.array(deployHookItem).optional(),
          after: z.array(deployHookItem).optional(),
        })
        .optional(),
    })
    .optional(),
  statusCheck: z.boolean().optional(),
  statusCheckDeadlineSeconds: z.number().int().optional(),
  tolerateFailuresUntilDeadline: z.boolean().optional(),
  kubeContext: z.string().optional(),
  logs: z
    .strictObject({
      prefix: z.enum(['container', 'podAndContainer', 'auto', 'none']).optional(),
      jsonParse: z.strictObject({ fields: strings.optional() }).optional(),
    })
    .optional(),
});

export const portForward = z.strictObject({
  resourceType: z.enum([
    'service',
    'pod',
    'deployment',
    'replicaset',
    'statefulset',
    'daemonset',
    'job',
    'cronjob',
    'Service',
    'Pod',
    'Deployment',
    'StatefulSet',
  ]),
  resourceName: z.string().min(1),
  namespace: z.string().optional(),
  port: z.union([z.number().int().min(1).max(65535), z.string()]),
  address: z.string().optional(),
  localPort: z.number().int().min(1).max(65535).optional(),
});

const profile = z.strictObject({
  name: z.string().min(1),
  activation: z
    .array(
      z.strictObject({
        env: z.string().optional(),
        kubeContext: z.string().optional(),
        command: z.string().optional(),
      }),
    )
    .optional(),
  requiresAllActivations: z.boolean().optional(),
  patches: z
    .array(
      z.strictObject({
        op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']).optional(),
        path: z.string(),
        from: z.string().optional(),
        value: z.unknown().optional(),
      }),
    )
    .optional(),
  build: build.optional(),
  manifests: manifests.optional(),
  deploy: deploy.optional(),
  portForward: z.array(portForward).optional(),
});

export const skaffoldConfig = z.strictObject({
  apiVersion: z.literal('skaffold/v4beta13'),
  kind: z.literal('Config'),
  metadata: z
    .strictObject({
      name: z.string().optional(),
      labels: stringMap.optional(),
      annotations: stringMap.optional(),
    })
    .optional(),
  build: build.optional(),
  manifests: manifests.optional(),
  deploy: deploy.optional(),
  portForward: z.array(portForward).optional(),
  profiles: z.array(profile).optional(),
});
export type SkaffoldConfig = z.output<typeof skaffoldConfig>;
export type Artifact = z.output<typeof artifact>;
