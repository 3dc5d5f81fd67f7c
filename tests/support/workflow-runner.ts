import { spawnSync } from 'node:child_process';
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
  on: { repository_dispatch: { types: string[] } };
  permissions: Record<string, string>;
  concurrency: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, { steps: WorkflowStep[] }>;
}

export function loadWorkflow(): Workflow {
  return parseYaml(readFileSync(WORKFLOW_PATH, 'utf8')) as Workflow;
}

/**
 * Evaluates the expressions the shipped workflow uses: `github.event.client_payload.KEY`, optionally
 * followed by `|| 'default'`. Anything else fails the test, so the workflow stays inside this subset.
 */
function evaluate(value: string, payload: Record<string, unknown>): string {
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expression: string) => {
    const match = /^github\.event\.client_payload\.([A-Za-z0-9_]+)(?:\s*\|\|\s*'([^']*)')?$/.exec(expression);
    if (!match) throw new Error(`workflow expression outside the supported subset: ${expression}`);
    const found = payload[match[1]!];
    if (found === undefined || found === null || found === '') return match[2] ?? '';
    return typeof found === 'string' ? found : JSON.stringify(found);
  });
}

export interface WorkflowRun {
  triggered: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the shipped workflow's shell steps for one repository_dispatch, in `checkout` (a full clone of
 * the GitOps repository, standing in for actions/checkout with fetch-depth: 0), with the env GitHub
 * Actions would give each step and bash the way Actions invokes it.
 */
export function runWorkflow(body: { event_type?: string; client_payload?: Record<string, unknown> }, checkout: string): WorkflowRun {
  const workflow = loadWorkflow();
  if (!workflow.on.repository_dispatch.types.includes(body.event_type ?? '')) return { triggered: false, status: null, stdout: '', stderr: '' };
  let stdout = '';
  for (const step of Object.values(workflow.jobs).flatMap((job) => job.steps)) {
    if (!step.run) continue;
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v), body.client_payload ?? {})]));
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run], {
      cwd: checkout,
      env: { ...GIT_ENV, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    stdout += result.stdout;
    if (result.status !== 0) return { triggered: true, status: result.status, stdout, stderr: result.stderr };
  }
  return { triggered: true, status: 0, stdout, stderr: '' };
}
