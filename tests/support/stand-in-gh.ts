import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A stand-in for GitHub's `gh` command, first on PATH: it records each call's arguments (one JSON array
 * per line) and answers the three calls restore-values.sh makes the way gh does: `pr list ... --jq`
 * prints the open pull request's number or nothing, `pr create` opens #7 and prints its URL, `pr merge`
 * succeeds. GH_STANDIN_FAIL=<subcommand> makes that call fail as gh does (exit 1, message on stderr).
 */
export class StandInGh {
  readonly dir: string;
  private readonly log: string;
  private readonly state: string;

  constructor(root: string) {
    this.dir = join(root, 'stand-in-gh');
    mkdirSync(this.dir, { recursive: true });
    this.log = join(this.dir, 'calls.jsonl');
    this.state = join(this.dir, 'open-pr');
    writeFileSync(this.log, '');
    const script = `#!/usr/bin/env bash
set -euo pipefail
node -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)) + "\\n")' -- "$@" >> '${this.log}'
[[ -n "\${GH_TOKEN:-}" ]] || { echo "gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable." >&2; exit 4; }
if [[ "\${GH_STANDIN_FAIL:-}" == "\${2:-}" ]]; then echo "GraphQL: Resource not accessible by integration (createPullRequest)" >&2; exit 1; fi
case "\${1:-} \${2:-}" in
  "pr list") if [[ -f '${this.state}' ]]; then cat '${this.state}'; fi ;;
  "pr create") echo 7 > '${this.state}'; echo "https://github.com/\${GH_REPO:-acme/gitops}/pull/7" ;;
  "pr merge") ;;
  *) echo "stand-in gh: unexpected call: $*" >&2; exit 2 ;;
esac
`;
    writeFileSync(join(this.dir, 'gh'), script);
    chmodSync(join(this.dir, 'gh'), 0o755);
  }

  /** Env for a run that should find this gh first: PATH plus a token (gh refuses to run without one). */
  env(): Record<string, string> {
    return { PATH: `${this.dir}:${process.env.PATH ?? ''}`, GH_TOKEN: 'stand-in-token-not-a-secret', GH_REPO: 'acme/gitops' };
  }

  calls(): string[][] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string[]);
  }
}
