/**
 * Kubernetes schema checks with kubernetes-models 4.5: its validators (types, required fields,
 * formats) and, because they let unknown fields through, its TypeScript declarations: every object
 * becomes a typed object literal, and the compiler's excess-property check names any field that
 * the Kubernetes API does not have (a typo like `readinesProbe` would otherwise be dropped silently).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { label, ROOT, type Manifest } from './repo';

const modelsDir = dirname(require.resolve('kubernetes-models/package.json'));

/** `apps/v1` + `Deployment` → `kubernetes-models/apps/v1/Deployment` (undefined for unknown kinds). */
export function modelModule(doc: { apiVersion?: unknown; kind?: unknown }): string | undefined {
  if (typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') return undefined;
  if (!/^[a-z0-9.]*\/?v[0-9a-z]+$/.test(doc.apiVersion) || !/^[A-Z][A-Za-z]+$/.test(doc.kind))
    return undefined;
  const rel = `${doc.apiVersion}/${doc.kind}`;
  return existsSync(join(modelsDir, `${rel}.js`)) ? `kubernetes-models/${rel}` : undefined;
}

/** kubernetes-models' validation of every manifest. */
export function validateModels(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  for (const m of manifests) {
    const module = modelModule(m.doc);
    if (!module) {
      problems.push(`${label(m)}: unknown apiVersion/kind ${m.doc?.apiVersion}/${m.doc?.kind}`);
      continue;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Model = (require(module) as Record<string, new (d: unknown) => { validate(): void }>)[m.doc.kind]!;
    try {
      new Model(m.doc).validate();
    } catch (err) {
      problems.push(`${label(m)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

/** Fields the Kubernetes API does not define, found by type-checking each manifest as its model's type. */
export function unknownFields(manifests: Manifest[]): string[] {
  const typed = manifests.filter((m) => modelModule(m.doc));
  const fileName = join(ROOT, 'k8s/test/__manifests__.ts');
  const lines = typed.map((m, i) => `import type { I${m.doc.kind} as T${i} } from '${modelModule(m.doc)}';`);
  const first = lines.length;
  typed.forEach((m, i) => lines.push(`export const m${i}: T${i} = ${JSON.stringify(m.doc)};`));
  const source = lines.join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === fileName ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  const problems: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program, program.getSourceFile(fileName))) {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const m = typed[line - first];
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]!;
    problems.push(`${m ? label(m) : 'manifests'}: ${text}`);
  }
  return problems;
}
