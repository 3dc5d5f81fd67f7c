import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkCopySources, parseDockerfile, readBuildContext, releaseBuilds, unquoteEnvValue } from '../../scripts/check-image';

const ROOT = resolve(__dirname, '..', '..');
/** What the Dockerfile copies, and what decides the build context. */
const SHIPPED = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.ts', 'src', 'public', 'deploy/routes.example.yaml', 'tests/fixtures'];

/**
 * scripts/check-image.ts (npm run check:image, run by .ci/run) on copies of this repository's build
 * files: the COPY sources are checked against the context .dockerignore leaves, so a Dockerfile and a
 * .dockerignore that disagree fail before anything is built (the build broke this way unnoticed once).
 */
describe('the image check: every COPY source in the build context Docker sends', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'image-check-'));
    for (const path of SHIPPED) cpSync(join(ROOT, path), join(dir, path), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("when the repository's Dockerfile and .dockerignore are used, then every COPY finds its source", () => {
    expect(checkCopySources(ROOT)).toEqual([]);
    expect(checkCopySources(dir)).toEqual([]);
  });

  it('when .dockerignore hides a file the Dockerfile copies, then the check names the COPY, its line and the pattern', () => {
    writeFileSync(join(dir, '.dockerignore'), 'node_modules\nscripts\n');
    const problems = checkCopySources(dir);
    const line = readFileSync(join(dir, 'Dockerfile'), 'utf8').split('\n').findIndex((l) => l.startsWith('COPY scripts/build.ts')) + 1;
    expect(problems).toEqual([`Dockerfile line ${line}: COPY scripts/build.ts — not in the build context: .dockerignore: 'scripts' excludes it (add '!scripts/build.ts' after it, or stop copying it)`]);
  });

  it('when a pattern with a wildcard hides a copied folder, then it is named too', () => {
    writeFileSync(join(dir, '.dockerignore'), 'pub*\n');
    expect(checkCopySources(dir)).toEqual([expect.stringContaining("COPY public — not in the build context: .dockerignore: 'pub*' excludes it")]);
  });

  it('when a COPY names a path that does not exist, then the check says so', () => {
    writeFileSync(join(dir, 'Dockerfile'), `${readFileSync(join(dir, 'Dockerfile'), 'utf8')}\nCOPY docs/missing.md ./docs/\n`);
    expect(checkCopySources(dir)).toEqual([expect.stringMatching(/^Dockerfile line \d+: COPY docs\/missing\.md — no such file or folder in /)]);
  });

  it('when a COPY --from names no earlier stage, then the check says so', () => {
    writeFileSync(join(dir, 'Dockerfile'), readFileSync(join(dir, 'Dockerfile'), 'utf8').replace('--from=build', '--from=builder'));
    expect(checkCopySources(dir)).toEqual([expect.stringMatching(/COPY --from=builder names no earlier stage/)]);
  });

  it('when the Dockerfile gains an instruction the check does not follow, then it fails instead of skipping it', () => {
    writeFileSync(join(dir, 'Dockerfile'), `${readFileSync(join(dir, 'Dockerfile'), 'utf8')}\nADD https://example.invalid/x.tgz /tmp/\n`);
    expect(checkCopySources(dir)).toEqual([expect.stringContaining('ADD is not followed by scripts/check-image.ts yet')]);
  });

  it('when an exception re-includes one file of an excluded folder, then only that file is sent', () => {
    const context = readBuildContext(dir);
    expect(context.files.has('scripts/build.ts')).toBe(true);
    expect(context.files.has('tests/fixtures/README.md')).toBe(false);
    expect(context.files.has('src/main.ts')).toBe(true);
    expect([...context.files].some((f) => f.startsWith('node_modules/'))).toBe(false);
  });
});

describe('the Dockerfile as the check reads it', () => {
  it('when parsed, then its stages, COPY lines, ENV (quotes removed), USER and CMD come from the file, not from the check', () => {
    const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(stages.map((s) => s.name ?? String(s.index))).toEqual(['build', '1']);
    const final = stages[1]!.steps;
    expect(final).toContainEqual(expect.objectContaining({ kind: 'copy', from: 'build', sources: ['/app/dist'], dest: './dist' }));
    expect(final).toContainEqual(expect.objectContaining({ kind: 'user', user: 'node' }));
    expect(final).toContainEqual(expect.objectContaining({ kind: 'cmd', argv: ['node', 'dist/main.js'] }));
    const env = Object.assign({}, ...final.filter((s) => s.kind === 'env').map((s) => (s as { vars: Record<string, string> }).vars)) as Record<string, string>;
    expect(env.NODE_OPTIONS).toMatch(/^--max-old-space-size=\d+ /);
  });

  it('when an ENV value is quoted or escaped, then it reads as Docker reads it', () => {
    expect(unquoteEnvValue('"a b"')).toBe('a b');
    expect(unquoteEnvValue("x'\\y'z")).toBe('x\\yz');
    expect(unquoteEnvValue('a\\ b')).toBe('a b');
  });

  it("when the release workflow builds the image, then its context is the repository's root and its Dockerfile the one checked", () => {
    expect(releaseBuilds(ROOT)).toEqual([{ where: '.github/workflows/release.yml job image', context: ROOT, dockerfile: 'Dockerfile' }]);
  });
});
