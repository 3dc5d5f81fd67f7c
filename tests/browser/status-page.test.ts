import { openStore } from '../../src/store/database';
import { pauseApp } from '../../src/store/pauses.repository';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ActionsStandIn } from '../support/actions-stand-in';
import { REV_7, REV_8, REV_9, neverSynced, singleSource, toStateBody, type Application } from '../support/argocd-fixtures';
import { CHROMIUM_PATH } from '../support/browser';
import { FakeGitHub } from '../support/fake-github';
import { GitOpsRepo, PROD } from '../support/gitops-repo';
import { ADMIN_TOKEN, GITHUB_TOKEN, WEBHOOK_TOKEN, failedRevision } from '../support/harness';
import { serviceEnv, spawnService, type ServiceProcess } from '../support/service-process';

const HOSTILE = '<img src=x onerror=alert(1)>';
// Screenshots go to a temporary folder: a test never rewrites tracked files. `npm run docs:screenshots`
// points SCREENSHOT_DIR at docs/ to refresh the README's pictures on purpose.
const DOCS = process.env.SCREENSHOT_DIR ? resolve(process.env.SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'ui-screenshots-'));
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: unknown[];
}

/** axe-core's serious and critical findings on the current page (run through the DevTools protocol, which the page's CSP does not govern). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes)`);
}

/**
 * The status page in a real browser (Debian's Chromium, headless, driven by playwright-core) against the
 * built service, a fake GitHub and the workflow stand-in: sign in, watch a rollback appear without a
 * reload, open it, follow its run link, pause the app and see the next rollback refused. No console
 * error, no failed request, no serious accessibility finding; the screenshots in docs/ come from here (npm run docs:screenshots).
 */
describe('the status page in Chromium', () => {
  let repo: GitOpsRepo;
  let github: FakeGitHub;
  let actions: ActionsStandIn;
  let service: ServiceProcess;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    repo = new GitOpsRepo();
    github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'], gitRepos: { 'acme/gitops': repo.origin }, webPages: true }).start();
    actions = new ActionsStandIn(github, repo);
    const routes = join(repo.root, 'routes.yaml');
    writeFileSync(routes, `routes:\n  - app: podinfo-prod\n    values_paths: [${PROD}]\n`);
    service = await spawnService(
      serviceEnv(github.url, `sqlite:${join(repo.root, 'rollback.db')}`, { ADMIN_TOKEN, ROUTES_FILE: routes, OUTCOME_POLL_MS: '50', OUTCOME_POLL_MAX_MS: '200' }),
      repo.root,
    );
    // No sandbox as root; no background connections, which this machine's closed network refuses.
    const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      // ERR_ABORTED is the browser cancelling a load because the test navigated on (a favicon, a live poll), not a failure.
      const error = request.failure()?.errorText ?? '';
      if (error !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.method()} ${request.url()} ${error}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    });
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await actions?.settled();
    await github?.stop();
    repo?.remove();
    if (!process.env.SCREENSHOT_DIR) rmSync(DOCS, { recursive: true, force: true });
  });

  /** The fixture Application, its history pointing at the real commits of the local GitOps repo. */
  function degraded(failed?: string): Application {
    const app = singleSource();
    const real: Record<string, string> = { [REV_7]: repo.commits.early, [REV_8]: repo.commits.healthy, [REV_9]: failed ?? repo.commits.failed };
    return JSON.parse(JSON.stringify(app).replace(/[0-9a-f]{40}/g, (sha) => real[sha] ?? sha)) as Application;
  }
  const notify = (body: unknown) =>
    fetch(`${service.url}/v1/webhooks/argocd`, { method: 'POST', headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('signs in, sees a rollback appear live, opens it, follows the run link, pauses the app and sees the next rollback refused', async () => {
    // An app with a healthy report, so the overview has a row before the rollback arrives.
    expect((await notify({ app: 'podinfo-prod', status: 'Healthy', revision: repo.commits.healthy })).status).toBe(200);
    await page.goto(`${service.url}/ui/`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.getByLabel('Your name').fill('Ana Ops');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${service.url}/ui/`);
    expect(await page.locator('#live').textContent()).toContain('podinfo-prod');
    expect(await page.locator('a[href^="/ui/events/"]').count()).toBe(0);

    // The webhook arrives while the page is open: the row shows it without a reload, within 2 s.
    const sent = Date.now();
    const accepted = (await (await notify(toStateBody(degraded()))).json()) as { id: string };
    await page.locator(`a[href="/ui/events/${accepted.id}"]`).waitFor({ timeout: 2000 });
    expect(Date.now() - sent).toBeLessThan(2000);

    // The workflow runs and restores; the rollback page then links the run.
    await github.waitFor((g) => g.accepted().length === 1);
    await actions.settled();
    await page.click(`a[href="/ui/events/${accepted.id}"]`);
    await page.waitForURL(`${service.url}/ui/events/${accepted.id}`);
    const runLink = page.getByRole('link', { name: 'open the run' });
    for (const deadline = Date.now() + 10_000; (await runLink.count()) === 0 && Date.now() < deadline; ) await page.reload();
    expect(await page.locator('main').textContent()).toContain(repo.commits.healthy.slice(0, 8));
    expect(await page.locator('pre').textContent()).toContain(`"event_id": "${accepted.id}"`);
    await page.screenshot({ path: join(DOCS, 'ui-rollback.png'), fullPage: true });
    // The short revision's copy button puts the whole id on the clipboard.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: service.url });
    await page.getByRole('button', { name: `Copy revision ${repo.commits.healthy}` }).first().click();
    await page.getByRole('button', { name: `Copied revision ${repo.commits.healthy}` }).first().waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(repo.commits.healthy);
    expect(await seriousViolations(page)).toEqual([]);
    const runUrl = await runLink.getAttribute('href');
    expect(runUrl).toMatch(new RegExp(`^${github.url}/acme/gitops/actions/runs/\\d+$`));
    await runLink.click();
    await page.waitForURL(runUrl!);
    expect(await page.locator('h1').textContent()).toBe(`Roll back podinfo-prod (event ${accepted.id}, dispatch ${String(github.accepted()[0]!.body?.client_payload?.dispatch_id)})`);
    await page.goBack();

    // Pause from the app's page (why → confirm), then the next Degraded revision is refused.
    await page.goto(`${service.url}/ui/apps/podinfo-prod`);
    await page.getByLabel('Why pause').fill('database migration until 14:00');
    await page.getByRole('button', { name: 'Pause rollbacks…' }).click();
    expect(await page.locator('main').textContent()).toContain('Pause podinfo-prod?');
    await page.getByRole('button', { name: 'Yes, pause rollbacks' }).click();
    await page.waitForURL(`${service.url}/ui/apps/podinfo-prod`);
    expect(await page.locator('.banner').textContent()).toContain('Paused by Ana Ops');
    const refused = await notify(toStateBody(degraded(failedRevision(77))));
    expect(refused.status).toBe(409);
    await page.reload();
    expect(await page.locator('main').textContent()).toContain('app paused by Ana Ops');
    expect(await page.getByText('pause by Ana Ops').count()).toBe(1);
    await page.screenshot({ path: join(DOCS, 'ui-app.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    // The overview as an operator sees it (before the hostile app below joins it).
    await page.goto(`${service.url}/ui/`);
    await page.getByRole('link', { name: 'podinfo-prod' }).waitFor();
    await page.screenshot({ path: join(DOCS, 'ui-overview.png'), fullPage: true });

    // Attacker-influenced text is shown as text: no element, no script, no dialog. No route takes such an
    // app name any more; one stored before that rule (written here beside the running service) still shows.
    const store = openStore(`sqlite:${join(repo.root, 'rollback.db')}`);
    await pauseApp(store.db, { app: HOSTILE, reason: '<script>alert(2)</script>', by: '<b>eve</b>', since: Date.now() });
    await store.close();
    await page.goto(`${service.url}/ui/`);
    await page.getByRole('link', { name: HOSTILE }).waitFor();
    expect(await page.locator('main img, main script, main b').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // On a phone (390 px): no page scrolls sideways; wide tables scroll inside their box.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, path] of [['overview', '/ui/'], ['app', '/ui/apps/podinfo-prod'], ['rollback', `/ui/events/${accepted.id}`]] as const) {
      await page.goto(`${service.url}${path}`);
      const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
      expect({ name, ...widths }).toEqual({ name, page: 390, viewport: 390 });
      await page.screenshot({ path: join(DOCS, `ui-${name}-390.png`), fullPage: true });
      expect(await seriousViolations(page)).toEqual([]);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${service.url}/ui/`);

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${service.url}/ui/login`);
    expect(await seriousViolations(page)).toEqual([]);
    await page.goto(`${service.url}/ui/`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');

    expect(problems).toEqual([]);
    expect(service.lines.join('\n')).not.toContain(ADMIN_TOKEN);
  }, 60_000);

  it('shows each refusal with its reason, and a failed restore as a banner with the failed step until someone acknowledges it', async () => {
    const named = (app: Application, name: string) => ({ ...app, metadata: { ...app.metadata, name } }) as Application;
    await page.goto(`${service.url}/ui/login`);
    await page.getByLabel('Your name').fill('Ben Ops');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${service.url}/ui/`);

    // Refused: no healthy revision (422), and an app Argo CD never deployed (200 not_deployed).
    expect((await notify({ app: 'never-healthy', status: 'Degraded', revision: failedRevision(41) })).status).toBe(422);
    expect((await notify(toStateBody(named(neverSynced(), 'never-deployed')))).status).toBe(200);
    // Failed: the workflow fails (the GitOps repository lacks the restore script).
    actions.plan.push('fail');
    const failed = (await (await notify(toStateBody(named(degraded(failedRevision(88)), 'checkout-prod')))).json()) as { id: string };
    const banner = page.locator('.banner.bad', { hasText: 'needs a person' });
    await banner.waitFor({ timeout: 15_000 });
    expect(await banner.textContent()).toContain('1 rollback needs a person');
    expect(await banner.textContent()).toContain('the restore script is missing from the GitOps repository');
    for (const [app, reason] of [['never-healthy', /healthy/], ['never-deployed', /Argo CD never synced this app/]] as const) {
      const row = page.locator('tr', { has: page.getByRole('link', { name: app, exact: true }) });
      expect(await row.locator('.badge', { hasText: 'no rollback' }).count()).toBe(1);
      expect(await row.locator('.note').textContent()).toMatch(reason);
    }
    await page.screenshot({ path: join(DOCS, 'ui-needs-a-person.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    // The rollback says which job and step failed, why, what to do, and links the step.
    await banner.locator(`a[href="/ui/events/${failed.id}"]`).click();
    await page.waitForURL(`${service.url}/ui/events/${failed.id}`);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Needs a person' }) });
    expect(await section.textContent()).toMatch(/job "restore" failed at step "Restore what the app renders from as of the healthy revision"/);
    expect(await section.getByRole('link', { name: 'Open where it failed' }).getAttribute('href')).toMatch(new RegExp(`^${github.url}/acme/gitops/actions/runs/\\d+/job/\\d+#step:3:1$`));
    await page.getByLabel('What you are doing about it').fill('adding the script to gitops, then replaying');
    await page.getByRole('button', { name: 'Acknowledge…' }).click();
    await page.getByRole('button', { name: 'Yes, acknowledge' }).click();
    await page.waitForURL(`${service.url}/ui/events/${failed.id}`);
    expect(await section.textContent()).toContain('Acknowledged by Ben Ops (status page)');
    await page.goto(`${service.url}/ui/`);
    await page.getByRole('link', { name: 'checkout-prod' }).waitFor();
    expect(await banner.count()).toBe(0);
    expect(problems).toEqual([]);
  }, 60_000);
});
