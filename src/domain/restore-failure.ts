/**
 * Why a restore failed, in words a person woken at 3 a.m. can act on: the failed job and step of the
 * workflow run (GitHub's jobs API), the line restore-values.sh or GitHub printed as the error (the job's
 * log), and, when that line is a known cause, its name and remedy. Pure, table-tested; reasons as data.
 */

/** The failed step of a completed run, as read from GET …/actions/runs/{id}/jobs and the job's log. */
export interface FailedStep {
  /** The job's id, to read its log. */
  jobId: string;
  job: string;
  /** null when the job failed outside a step (a runner lost, a timeout before the first step). */
  step: string | null;
  /** The step's place in the job's log on GitHub (the job's page when no step is known). */
  url: string;
  /** The last error line of the job's log (timestamp removed), when the log could be read. */
  errorLine?: string;
  /** Why the log said nothing: it could not be read in time, or had no error line in what was read. */
  logProblem?: string;
}

/** A workflow as GET /repos/{owner}/{repo}/actions/workflows lists it. */
export interface WorkflowView {
  name: string;
  path: string;
  state: string;
}

export interface KnownCause {
  name: string;
  remedy: string;
}

/** The error lines restore-values.sh and GitHub print, and what each means. First match wins. */
const CAUSES: ReadonlyArray<KnownCause & { match: RegExp }> = [
  {
    match: /did not exist at the healthy revision/,
    name: 'a path to restore does not exist at the healthy revision',
    remedy: "check what is restored (the Application's sources, the route's values_paths or VALUES_PATHS): each path must exist at the healthy revision; restore this app by hand",
  },
  {
    match: /GH006|GH013|protected branch|branch protection|repository rule violations/i,
    name: 'the push was refused by branch protection',
    remedy: 'let the rollback push to the branch (a ruleset bypass for the token in ROLLBACK_PR_TOKEN), or set the repository variable ROLLBACK_MODE=pr so each rollback arrives as a pull request',
  },
  {
    match: /restore-values\.sh: No such file or directory/,
    name: 'the restore script is missing from the GitOps repository',
    remedy: 'copy deploy/github/restore-values.sh from this project to deploy/github/restore-values.sh on the default branch of the GitOps repository',
  },
  {
    match: /is not a commit in this repository/,
    name: 'the healthy revision is not in the clone',
    remedy: 'keep fetch-depth: 0 in the checkout step, and check that the healthy revision was not force-pushed away',
  },
  {
    match: /conflict with the restore/,
    name: 'the restored paths changed meanwhile and conflict with the restore',
    remedy: 'restore the paths by hand: git restore --source=<healthy revision> -- <paths>, then commit and push',
  },
  {
    match: /gh cannot open the pull request|gh cannot enable auto-merge/,
    name: 'GitHub Actions may not open or merge the pull request',
    remedy: 'allow it (Settings → Actions → General → "Allow GitHub Actions to create and approve pull requests"; auto-merge in Settings → General), or store a token as ROLLBACK_PR_TOKEN',
  },
];

const MAX_LINE = 300;

/** The newest job that failed and its first failed step, with a link to that step. */
export function pickFailedStep(data: unknown): FailedStep | undefined {
  const jobs = isObject(data) && Array.isArray(data.jobs) ? data.jobs.filter(isObject) : [];
  const job = jobs.find((j) => FAILED.includes(String(j.conclusion)));
  if (!job) return undefined;
  const steps = Array.isArray(job.steps) ? job.steps.filter(isObject) : [];
  const step = steps.find((s) => FAILED.includes(String(s.conclusion)));
  const url = typeof job.html_url === 'string' ? job.html_url : '';
  return {
    jobId: String(job.id),
    job: typeof job.name === 'string' ? job.name : `job ${String(job.id)}`,
    step: step && typeof step.name === 'string' ? step.name : null,
    // GitHub's own anchor for a step in the job's log page.
    url: step && typeof step.number === 'number' && url ? `${url}#step:${step.number}:1` : url,
  };
}

/**
 * The line that says why, from a job's plain-text log: the last line restore-values.sh printed about
 * itself, else the last line GitHub marked as an error. Timestamps and GitHub's markers are removed.
 */
export function errorLineOf(log: string): string | undefined {
  const lines = log.split(/\r?\n/).map((line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s?/, ''));
  const own = lines.filter((line) => /restore-values: /.test(line) && !/restore-values: (pushed|opened|pull request|auto-merge|\d+ path\(s\) already)/.test(line));
  const marked = lines.filter((line) => line.startsWith('##[error]') || /\b(error|fatal): |: No such file or directory$|: command not found$/i.test(line));
  // GitHub's closing "Process completed with exit code N." says least: any other error line first.
  const generic = (line: string) => /^##\[error\]Process completed with exit code/.test(line);
  const line = own.at(-1) ?? marked.filter((l) => !generic(l)).at(-1) ?? marked.at(-1);
  return line?.replace(/^##\[error\]/, '').trim().slice(0, MAX_LINE) || undefined;
}

/** The known cause an error line names, if any. */
export function knownCauseOf(errorLine: string | undefined): KnownCause | undefined {
  if (!errorLine) return undefined;
  const found = CAUSES.find((cause) => cause.match.test(errorLine));
  return found ? { name: found.name, remedy: found.remedy } : undefined;
}

/** "job "restore" failed at step "…": <line> — <cause>; <remedy>" */
export function describeFailedStep(failure: FailedStep): string {
  const where = failure.step ? `job "${failure.job}" failed at step "${failure.step}"` : `job "${failure.job}" failed`;
  const cause = knownCauseOf(failure.errorLine);
  const said = failure.errorLine ? `: ${failure.errorLine}` : failure.logProblem ? ` (${failure.logProblem})` : '';
  return cause ? `${where}${said} — ${cause.name}; ${cause.remedy}` : `${where}${said}`;
}

/** The workflow this project ships (deploy/github/rollback.yml), as GitHub lists it. */
export const ROLLBACK_WORKFLOW = { name: 'gitops-rollback', file: 'rollback.yml' };

/**
 * Why no run appeared, when the repository's workflows say: the workflow file is missing, or disabled.
 * Undefined when the workflow is there and active (or the list could not be read).
 */
export function missingWorkflowCause(workflows: readonly WorkflowView[] | undefined): string | undefined {
  if (!workflows) return undefined;
  const ours = workflows.find((w) => w.name === ROLLBACK_WORKFLOW.name || w.path.endsWith(`/${ROLLBACK_WORKFLOW.file}`));
  if (!ours) {
    const listed = workflows.length === 0 ? 'none' : workflows.map((w) => w.path).slice(0, 5).join(', ');
    return `the repository has no ${ROLLBACK_WORKFLOW.name} workflow (its workflows: ${listed}) — a missing workflow file; copy deploy/github/rollback.yml to .github/workflows/${ROLLBACK_WORKFLOW.file} on the default branch`;
  }
  if (ours.state !== 'active') return `the ${ROLLBACK_WORKFLOW.name} workflow (${ours.path}) is ${ours.state.replaceAll('_', ' ')} — enable it in the repository's Actions tab`;
  return undefined;
}

/** From GET /repos/{owner}/{repo}/actions/workflows. */
export function parseWorkflows(data: unknown): WorkflowView[] | undefined {
  if (!isObject(data) || !Array.isArray(data.workflows)) return undefined;
  const text = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
  return data.workflows.filter(isObject).map((w) => ({ name: text(w.name, ''), path: text(w.path, ''), state: text(w.state, 'unknown') }));
}

const FAILED = ['failure', 'timed_out', 'startup_failure'];
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
