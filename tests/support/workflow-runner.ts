import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { GIT_ENV } from './gitops-repo';

export const WORKFLOW_PATH = join(__dirname, '..', '..', 'deploy', 'github', 'rollback.yml');

export interface WorkflowStep {
  name?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  run?: string;
}

export interface Workflow {
  'run-name': string;
  on: { repository_dispatch: { types: string[] } };
  permissions: Record<string, string>;
  concurrency: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, { steps: WorkflowStep[] }>;
}

export function loadWorkflow(): Workflow {
  return parseYaml(readFileSync(WORKFLOW_PATH, 'utf8')) as Workflow;
}

export interface DispatchBody {
  event_type?: string;
  client_payload?: Record<string, unknown>;
}

/** What GitHub Actions knows besides the payload: repository variables, secrets, the run's own token. */
export interface WorkflowContext {
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  repository?: string;
}

/** The stand-in for the run's GITHUB_TOKEN (never a real token). */
export const RUN_TOKEN = 'test-run-token-not-a-secret';

/**
 * Evaluates the expressions the shipped workflow uses: operands `github.event.client_payload.KEY`,
 * `vars.NAME`, `secrets.NAME`, `github.token`, `github.repository` or a 'literal', joined by `||`
 * (the first non-empty one wins, as in Actions). Anything else fails the test, so the workflow stays
 * inside this subset.
 */
export function evaluate(value: string, body: DispatchBody, context: WorkflowContext = {}): string {
  const payload = body.client_payload ?? {};
  const operand = (text: string): string => {
    const literal = /^'([^']*)'$/.exec(text);
    if (literal) return literal[1]!;
    const ref = /^(github\.event\.client_payload|vars|secrets)\.([A-Za-z0-9_]+)$/.exec(text);
    if (ref) {
      const found = ref[1] === 'vars' ? context.vars?.[ref[2]!] : ref[1] === 'secrets' ? context.secrets?.[ref[2]!] : payload[ref[2]!];
      if (found === undefined || found === null) return '';
      return typeof found === 'string' ? found : JSON.stringify(found);
    }
    if (text === 'github.token') return RUN_TOKEN;
    if (text === 'github.repository') return context.repository ?? 'acme/gitops';
    throw new Error(`workflow expression outside the supported subset: ${text}`);
  };
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expression: string) => {
    for (const part of expression.split('||')) {
      const result = operand(part.trim());
      if (result !== '') return result;
    }
    return '';
  });
}

export interface WorkflowRun {
  triggered: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
}

function shellSteps(body: DispatchBody, context: WorkflowContext): Array<{ run: string; env: Record<string, string> }> {
  const workflow = loadWorkflow();
  return Object.values(workflow.jobs)
    .flatMap((job) => job.steps)
    .filter((step) => step.run !== undefined)
    .map((step) => ({ run: step.run!, env: Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v), body, context)])) }));
}

const triggers = (body: DispatchBody) => loadWorkflow().on.repository_dispatch.types.includes(body.event_type ?? '');

/** Extra PATH entries first (a stand-in `gh`), then the test's PATH. */
function stepEnv(env: Record<string, string>, pathPrefix: string | undefined): NodeJS.ProcessEnv {
  return { ...GIT_ENV, ...env, PATH: pathPrefix ? `${pathPrefix}:${GIT_ENV.PATH}` : GIT_ENV.PATH };
}

/**
 * Runs the shipped workflow's shell steps for one repository_dispatch, in `checkout` (a full clone of
 * the GitOps repository, standing in for actions/checkout with fetch-depth: 0), with the env GitHub
 * Actions would give each step and bash the way Actions invokes it.
 */
export function runWorkflow(body: DispatchBody, checkout: string, context: WorkflowContext = {}, pathPrefix?: string): WorkflowRun {
  if (!triggers(body)) return { triggered: false, status: null, stdout: '', stderr: '' };
  let stdout = '';
  for (const step of shellSteps(body, context)) {
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], { cwd: checkout, env: stepEnv(step.env, pathPrefix), encoding: 'utf8', timeout: 60_000 });
    stdout += result.stdout;
    if (result.status !== 0) return { triggered: true, status: result.status, stdout, stderr: result.stderr };
  }
  return { triggered: true, status: 0, stdout, stderr: '' };
}

/** The same as runWorkflow, without blocking: runs of different concurrency groups overlap. */
export async function runWorkflowAsync(body: DispatchBody, checkout: string, context: WorkflowContext = {}): Promise<WorkflowRun> {
  if (!triggers(body)) return { triggered: false, status: null, stdout: '', stderr: '' };
  let stdout = '';
  for (const step of shellSteps(body, context)) {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], { cwd: checkout, env: stepEnv(step.env, undefined) });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    stdout += out;
    if (status !== 0) return { triggered: true, status, stdout, stderr: err };
  }
  return { triggered: true, status: 0, stdout, stderr: '' };
}
