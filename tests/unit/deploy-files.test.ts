import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadNotificationsConfig, renderToJsonTemplate, type WebhookService, type WebhookTemplate } from '../support/argocd-notifications';
import { firstDeploy, multiSource, singleSource, v3AppTree } from '../support/argocd-fixtures';
import { loadWorkflow } from '../support/workflow-runner';

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
        'deploy/kubernetes/deployment.yaml',
        'deploy/kubernetes/service.yaml',
        'deploy/kubernetes/secret.example.yaml',
        'deploy/kubernetes/pvc.yaml',
        'docker-compose.yml',
      ]),
    );
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('when %s is parsed, then every YAML document in it is valid', (_name, path) => {
    const documents = parseAllDocuments(readFileSync(path, 'utf8'));
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) expect(document.errors).toEqual([]);
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

    it('when the triggers are read, then they fire on Degraded and on Healthy, once per synced revision, sending the templates', () => {
      expect(config['trigger.on-degraded-rollback']).toEqual([
        expect.objectContaining({ when: "app.status.health.status == 'Degraded'", oncePer: 'app.status.operationState?.syncResult?.revision', send: ['gitops-rollback-degraded'] }),
      ]);
      expect(config['trigger.on-deployed-healthy']).toEqual([
        expect.objectContaining({ when: expect.stringContaining("app.status.health.status == 'Healthy'"), oncePer: 'app.status.operationState?.syncResult?.revision', send: ['gitops-rollback-deployed'] }),
      ]);
    });

    it.each([
      ['single source', singleSource],
      ['multi-source', multiSource],
      ['Argo CD 3 appTree', v3AppTree],
      ['first deploy', firstDeploy],
    ])('when the degraded template renders the %s fixture, then the result is JSON in shape C', (_name, fixture) => {
      const template = (config['template.gitops-rollback-degraded'] as WebhookTemplate).webhook['gitops-rollback']!;
      const body = JSON.parse(renderToJsonTemplate(template.body, { app: fixture() })) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['app', 'namespace', 'project', 'health', 'sync', 'operationState', 'history']);
      expect(body).toMatchObject({ app: 'podinfo-prod', health: { status: 'Degraded' } });
    });

    it('when an app name holds quotes and newlines, then toJson keeps the body valid JSON', () => {
      const app = singleSource();
      app.metadata.name = 'evil"\n}, "x": {';
      const template = (config['template.gitops-rollback-deployed'] as WebhookTemplate).webhook['gitops-rollback']!;
      expect(JSON.parse(renderToJsonTemplate(template.body, { app }))).toMatchObject({ app: 'evil"\n}, "x": {' });
    });
  });

  describe('GitHub workflow', () => {
    const workflow = loadWorkflow();
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);

    it('when read, then it runs on repository_dispatch with contents: write and a concurrency group that never cancels', () => {
      expect(workflow.on.repository_dispatch.types).toContain('argo-degraded');
      expect(workflow.permissions).toEqual({ contents: 'write' });
      expect(workflow.concurrency['cancel-in-progress']).toBe(false);
    });

    it('when it checks out, then it fetches the full history (the healthy revision must be reachable)', () => {
      expect(steps.find((s) => s.uses?.startsWith('actions/checkout@'))?.with).toMatchObject({ 'fetch-depth': 0 });
    });

    it('when a step runs shell, then no ${{ }} expression is inside run: (payload goes through env)', () => {
      const runs = steps.filter((s) => s.run !== undefined);
      expect(runs.length).toBeGreaterThan(0);
      for (const step of runs) expect(step.run).not.toContain('${{');
      expect(runs.some((s) => s.run!.includes('deploy/github/restore-values.sh'))).toBe(true);
    });
  });
});
