import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(__dirname, '../..');

export const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');
export const exists = (rel: string): boolean => existsSync(join(ROOT, rel));

/** A Kubernetes object as parsed from YAML, with where it came from. */
export interface Manifest {
  file: string;
  index: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  doc: any;
}

export const label = (m: Manifest): string =>
  `${m.file}#${m.index} ${String(m.doc?.kind)}/${String(m.doc?.metadata?.name)}`;

/** Every document of a YAML file; YAML syntax errors throw, naming the file. */
export function parseYamlFile(file: string, text: string): Manifest[] {
  const out: Manifest[] = [];
  parseAllDocuments(text).forEach((d, index) => {
    if (d.errors.length > 0) throw new Error(`${file}#${index}: ${d.errors[0]!.message}`);
    const doc: unknown = d.toJS({ maxAliasCount: 0 });
    if (doc !== null && doc !== undefined) out.push({ file, index, doc });
  });
  return out;
}

/** The manifests skaffold deploys (k8s/*.yaml without the *.example.yaml ones). */
export function manifestFiles(): string[] {
  return readdirSync(join(ROOT, 'k8s'))
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.example.yaml'))
    .sort()
    .map((f) => `k8s/${f}`);
}

export const loadManifests = (files: string[] = manifestFiles()): Manifest[] =>
  files.flatMap((f) => parseYamlFile(f, read(f)));
