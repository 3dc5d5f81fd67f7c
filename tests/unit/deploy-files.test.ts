import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config/config';
import { pickRun } from '../../src/github/restore-lookups';
import { loadNotificationsConfig, type WebhookService, type WebhookTemplate } from '../support/argocd-notifications';
import { singleSource, toStateBody } from '../support/argocd-fixtures';
import { RUN_TOKEN, evaluate, loadWorkflow } from '../support/workflow-runner';
import { anchorOf, tableOfContents, withTableOfContents } from '../../scripts/readme-toc';

const ROOT = join(__dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

describe('shipped deploy files', () => {
  const files = [...yamlFiles(join(ROOT, 'deploy')), join(ROOT, 'docker-compose.yml')];

  it('when the deploy folder is listed, then it holds the files the contract names', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toEqual(
      expect.arrayContaining([
        'deploy/argocd/argocd-notifications-cm.yaml',
        'deploy/github/rollback.yml',
        'deploy/argocd/gitops-rollback-webhook.application.yaml',
        'deploy/kubernetes/base/kustomization.yaml',
        'deploy/kubernetes/base/deployment.yaml',
        'deploy/kubernetes/overlays/sqlite/kustomization.yaml',
        'deploy/kubernetes/overlays/postgres/kustomization.yaml',
        'deploy/kubernetes/secret.example.yaml',
        'docker-compose.yml',
      ]),
    );
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('when %s is parsed, then every YAML document in it is valid', (_name, path) => {
    const documents = parseAllDocuments(readFileSync(path, 'utf8'));
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) expect(document.errors).toEqual([]);
  });

  it("when the README's example notification is read, then it is what the shipped degraded template renders for the fixture Application", () => {
    // toStateBody equals the real notifications engine's output (npm run test:argocd-real checks that).
    expect(JSON.parse(readFileSync(join(ROOT, 'deploy', 'argocd', 'example-degraded-body.json'), 'utf8'))).toEqual(toStateBody(singleSource()));
  });

  it('when docker-compose.yml and .env.example are read, then both name every variable the service reads, and .env.example leaves the required ones empty', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> };
    for (const service of ['rollback-webhook', 'rollback-webhook-ha']) {
      expect(Object.keys(compose.services[service]!.environment!).sort()).toEqual([...CONFIG_VARIABLES].sort());
    }
    const example = Object.fromEntries(
      readFileSync(join(ROOT, '.env.example'), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    // POSTGRES_PASSWORD is the compose file's own (its postgres profile).
    expect(Object.keys(example).sort()).toEqual([...CONFIG_VARIABLES, 'POSTGRES_PASSWORD'].sort());
    for (const required of ['GH_PAT_WEBHOOK', 'REPO_OWNER', 'REPO_NAME', 'WEBHOOK_TOKEN', 'ADMIN_TOKEN', 'POSTGRES_PASSWORD']) expect(example[required]).toBe('');
    // No default for the PostgreSQL password: empty, the postgres image refuses to start and names it.
    expect(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')).not.toMatch(/POSTGRES_PASSWORD:-[^}]/);
  });

  describe('argocd-notifications-cm', () => {
    const config = loadNotificationsConfig();

    it('when a template names a webhook, then it is the configured service and uses POST (a mismatch makes Argo CD send a GET)', () => {
      const services = Object.keys(config).filter((k) => k.startsWith('service.webhook.')).map((k) => k.slice('service.webhook.'.length));
      expect(services).toEqual(['gitops-rollback']);
      for (const name of ['template.gitops-rollback-degraded', 'template.gitops-rollback-deployed']) {
        const template = config[name] as WebhookTemplate;
        expect(Object.keys(template.webhook)).toEqual(services);
        expect(template.webhook['gitops-rollback']!.method).toBe('POST');
      }
    });

    it('when the service is read, then it sends JSON and the token from the notifications secret', () => {
      const service = config['service.webhook.gitops-rollback'] as WebhookService;
      expect(service.url).toMatch(/\/v1\/webhooks\/argocd$/);
      expect(service.headers).toEqual([
        { name: 'Content-Type', value: 'application/json' },
        { name: 'Authorization', value: 'Bearer $gitops-rollback-token' },
      ]);
    });

    const ONCE_PER_REVISIONS = "(app.status.operationState?.syncResult?.revision ?? '') + join(app.status.operationState?.syncResult?.revisions ?? [], ',')";

    it('when the triggers are read, then Degraded fires once per revision set and again until answered 2xx, Healthy once per revision set', () => {
      expect(config['trigger.on-degraded-rollback']).toEqual([
        expect.objectContaining({ when: "app.status.health.status == 'Degraded'", oncePer: ONCE_PER_REVISIONS, send: ['gitops-rollback-degraded'] }),
      ]);
      // No oncePer: Argo CD drops this trigger's key after a failed send and sends again (the outage fix).
      const retry = config['trigger.on-degraded-rollback-retry'] as Array<Record<string, unknown>>;
      expect(retry).toEqual([expect.objectContaining({ when: "app.status.health.status == 'Degraded'", send: ['gitops-rollback-degraded'] })]);
      expect(retry[0]).not.toHaveProperty('oncePer');
      expect(config['trigger.on-deployed-healthy']).toEqual([
        expect.objectContaining({ when: expect.stringContaining("app.status.health.status == 'Healthy'"), oncePer: ONCE_PER_REVISIONS, send: ['gitops-rollback-deployed'] }),
      ]);
    });

    it('when the subscription example is read, then it subscribes the app to every trigger the ConfigMap defines', () => {
      const triggers = Object.keys(config).filter((k) => k.startsWith('trigger.')).map((k) => k.slice('trigger.'.length));
      const example = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'argocd', 'application-subscription.example.yaml'), 'utf8'))[0]!.toJS() as {
        metadata: { annotations: Record<string, string> };
      };
      const subscribed = Object.keys(example.metadata.annotations).map((k) => /^notifications\.argoproj\.io\/subscribe\.(.+)\.gitops-rollback$/.exec(k)?.[1]);
      expect(subscribed.sort()).toEqual(triggers.sort());
    });

    it('when the templates are read, then both send the same bounded state: no per-resource list, no whole operationState', () => {
      const body = (name: string) => (config[name] as WebhookTemplate).webhook['gitops-rollback']!.body;
      expect(body('template.gitops-rollback-deployed')).toBe(body('template.gitops-rollback-degraded'));
      const template = body('template.gitops-rollback-degraded');
      expect(template).not.toMatch(/resources"|toJson \.app\.status\.operationState\b|toJson \.app\.status\b/);
      expect(template).toMatch(/slice \$history \(max 0 \(sub \(len \$history\) 10\)\)/);
    });
  });

  describe('GitHub workflow', () => {
    const workflow = loadWorkflow();
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);

    it('when read, then it runs on repository_dispatch with contents and pull-requests write, one concurrency group per app, never cancelling a running one', () => {
      expect(workflow.on.repository_dispatch.types).toContain('argo-degraded');
      expect(workflow.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
      expect(workflow.concurrency['cancel-in-progress']).toBe(false);
      const group = (app: string) => evaluate(workflow.concurrency.group, { client_payload: { app } });
      expect(group('podinfo-prod')).not.toBe(group('checkout-prod'));
      expect(group('podinfo-prod')).toBe(group('podinfo-prod'));
    });

    it('when a run is named, then its title carries the app, the event id and the dispatch id (what the outcome tracking matches on)', () => {
      const payload = { app: 'podinfo-prod', event_id: '01a2290a-6d1c-7b3e-9f00-4c8e2b1d0a99', dispatch_id: '01a2290a-7000-7000-8000-000000000001' };
      const title = evaluate(workflow['run-name'], { client_payload: payload });
      expect(title).toBe('Roll back podinfo-prod (event 01a2290a-6d1c-7b3e-9f00-4c8e2b1d0a99, dispatch 01a2290a-7000-7000-8000-000000000001)');
      // The service's matcher takes exactly this dispatch's run by that title, and not another dispatch's.
      const listed = { workflow_runs: [{ id: 1, display_title: title, status: 'queued', conclusion: null, created_at: '2026-11-29T10:00:01Z' }] };
      expect(pickRun(listed, { eventId: payload.event_id, dispatchId: payload.dispatch_id, sentAt: Date.parse('2026-11-29T10:00:00Z') }, [])).toMatchObject({ id: '1' });
      expect(pickRun(listed, { eventId: payload.event_id, dispatchId: '01a2290a-7000-7000-8000-000000000002', sentAt: Date.parse('2026-11-29T10:00:00Z') }, [])).toBeUndefined();
    });

    it('when it checks out, then it uses checkout v6 (Node 24) and fetches the full history (the healthy revision must be reachable)', () => {
      const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@'));
      expect(checkout?.uses).toBe('actions/checkout@v6');
      expect(checkout?.with).toMatchObject({ 'fetch-depth': 0 });
    });

    it('when no repository variable is set, then the mode is push; ROLLBACK_MODE=pr switches it, and gh gets a token', () => {
      const env = steps.find((s) => s.run?.includes('restore-values.sh'))!.env!;
      const body = { client_payload: { app: 'a' } };
      expect(evaluate(env.ROLLBACK_MODE!, body)).toBe('push');
      expect(evaluate(env.ROLLBACK_MODE!, body, { vars: { ROLLBACK_MODE: 'pr' } })).toBe('pr');
      expect(evaluate(env.ROLLBACK_AUTO_MERGE!, body)).toBe('false');
      expect(evaluate(env.GH_TOKEN!, body)).toBe(RUN_TOKEN);
      expect(evaluate(env.GH_TOKEN!, body, { secrets: { ROLLBACK_PR_TOKEN: 'app-token' } })).toBe('app-token');
    });

    it('when a step runs shell, then no ${{ }} expression is inside run: (payload goes through env)', () => {
      const runs = steps.filter((s) => s.run !== undefined);
      expect(runs.length).toBeGreaterThan(0);
      for (const step of runs) expect(step.run).not.toContain('${{');
      expect(runs.some((s) => s.run!.includes('deploy/github/restore-values.sh'))).toBe(true);
    });
  });

  describe('release workflow (.github/workflows/release.yml)', () => {
    interface Step {
      id?: string;
      uses?: string;
      run?: string;
      with?: Record<string, string | boolean>;
    }
    const workflow = parse(readFileSync(join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8')) as {
      on: { push: { tags: string[] } };
      permissions: Record<string, string>;
      jobs: { image: { permissions: Record<string, string>; steps: Step[] } };
    };
    const steps = workflow.jobs.image.steps;
    const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;

    it('when read, then it runs on version tags only and pushes a multi-arch image with an SBOM and provenance', () => {
      expect(workflow.on).toEqual({ push: { tags: ['v*.*.*'] } });
      expect(build.with).toMatchObject({ platforms: 'linux/amd64,linux/arm64', push: true, sbom: true, provenance: 'mode=max' });
      expect(workflow.permissions).toEqual({ contents: 'read' });
      expect(workflow.jobs.image.permissions).toEqual({ contents: 'read', packages: 'write' });
    });

    it('when the tag is checked, then it must be package.json\'s version, the one /v1/status reports, and the image is tagged with it', () => {
      const check = steps.find((s) => s.id === 'version')!;
      expect(check.run).toContain(`node -p "require('./package.json').version"`);
      expect(check.run).toContain('"$TAG" != "v$version"');
      const meta = steps.find((s) => s.id === 'meta')!;
      expect(String(meta.with!.tags)).toContain('type=raw,value=${{ steps.version.outputs.version }}');
      expect(build.with!.tags).toBe('${{ steps.meta.outputs.tags }}');
    });

    it('when a step runs shell, then no ${{ }} expression is inside run: (the tag goes through env)', () => {
      for (const step of steps.filter((s) => s.run !== undefined)) expect(step.run).not.toContain('${{');
    });
  });
});

describe('the README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('when a section is added or renamed, then its table of contents follows (npm run docs:toc)', () => {
    expect(withTableOfContents(readme)).toBe(readme);
    expect(tableOfContents(readme).split('\n').length).toBeGreaterThan(10);
  });

  it('when a section links another, then that anchor is a heading of the README', () => {
    const headings = readme.split('\n').flatMap((line) => (/^#{1,4} (.+)$/.exec(line)?.[1] ? [anchorOf(/^#{1,4} (.+)$/.exec(line)![1]!)] : []));
    // And explicit anchors (<a id="…">) in the text.
    const anchors = new Set([...headings, ...[...readme.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!)]);
    const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });

  it('when the README or a page of docs/ links a file or a heading, then it exists (the history moved to docs/ stays reachable)', () => {
    const anchorsOf = (markdown: string) =>
      new Set([
        ...markdown.split('\n').flatMap((line) => (/^#{1,4} (.+)$/.exec(line)?.[1] ? [anchorOf(/^#{1,4} (.+)$/.exec(line)![1]!)] : [])),
        ...[...markdown.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!),
      ]);
    const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    expect(pages.length).toBeGreaterThanOrEqual(4);
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(ROOT, page), 'utf8');
      for (const [, linked, anchor] of text.matchAll(/\]\(([^)#\s]+\.md)(?:#([^)]+))?\)/g)) {
        const file = join(ROOT, dirname(page), linked!);
        if (!existsSync(file)) broken.push(`${page} → ${linked}`);
        else if (anchor && !anchorsOf(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${page} → ${linked}#${anchor}`);
      }
      for (const [, anchor] of text.matchAll(/\]\(#([^)]+)\)/g)) if (!anchorsOf(text).has(anchor!)) broken.push(`${page} → #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it.each([
    ['Getting a Title', 'getting-a-title'],
    ['Status page (`/ui/`)', 'status-page-ui'],
    ['Outcomes: what became of each rollback', 'outcomes-what-became-of-each-rollback'],
  ])('when the heading is %j, then its anchor is %j (as GitHub makes it)', (heading, anchor) => {
    expect(anchorOf(heading)).toBe(anchor);
  });
});
