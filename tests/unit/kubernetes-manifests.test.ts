import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config/config';
import { parseRoutesFile } from '../../src/config/routes';
import { OVERLAYS, PLACEHOLDER_IMAGE, placeholderImages, renderOverlay } from '../../scripts/check-kubernetes';

const ROOT = join(__dirname, '..', '..');

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- rendered Kubernetes objects, read field by field */
type Obj = Record<string, any>;

function rendered(overlay: string): Obj[] {
  return parseAllDocuments(renderOverlay(overlay).yaml).map((d) => d.toJS() as Obj);
}

const one = (objects: Obj[], kind: string): Obj => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const configMap = (objects: Obj[], prefix: string): Obj => objects.find((o) => o.kind === 'ConfigMap' && String(o.metadata.name).startsWith(prefix))!;
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * The kustomize base and its overlays as rendered by kubectl kustomize (required; it fails without it;
 * scripts/check-kubernetes.ts validates the same objects against the Kubernetes schemas in CI): what
 * each variant must hold for the service to start and stay reachable.
 */
describe.each(OVERLAYS)('deploy/kubernetes/overlays/%s rendered', (overlay) => {
  const objects = rendered(overlay);
  const deployment = one(objects, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const settings = configMap(objects, 'gitops-rollback-webhook-settings');
  const routes = configMap(objects, 'gitops-rollback-webhook-routes');

  it('when rendered, then every object is in the argocd namespace and the image is the one kustomization.yaml names', () => {
    for (const object of objects) expect(object.metadata.namespace).toBe('argocd');
    const [image] = (parse(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'base', 'kustomization.yaml'), 'utf8')) as { images: Array<{ newName: string; newTag: string }> }).images;
    expect(container.image).toBe(`${image!.newName}:${image!.newTag}`);
  });

  it('when the image is still the placeholder, then check:kubernetes names it; once set, it does not', () => {
    const { yaml } = renderOverlay(overlay);
    expect(placeholderImages(yaml)).toEqual([`Deployment container ${String(container.name)}: image ${PLACEHOLDER_IMAGE}:set-your-version`]);
    expect(placeholderImages(yaml.replaceAll(PLACEHOLDER_IMAGE, 'ghcr.io/your-org/gitops-rollback-webhook'))).toEqual([]);
  });

  it('when the settings are read, then each is a variable the service knows, ADMIN_TOKEN is required, and the routes file is where it is mounted', () => {
    for (const name of Object.keys(settings.data)) expect(CONFIG_VARIABLES).toContain(name);
    expect(settings.data.REQUIRE_ADMIN_TOKEN).toBe('true');
    const mount = container.volumeMounts.find((m: Obj) => pod.volumes.find((v: Obj) => v.name === m.name)?.configMap?.name === routes.metadata.name);
    expect(`${mount.mountPath}/routes.yaml`).toBe(settings.data.ROUTES_FILE);
    expect(Object.keys(routes.data)).toEqual(['routes.yaml']);
    expect(parseRoutesFile(routes.data['routes.yaml']).problems).toEqual([]);
    expect(container.envFrom).toEqual([{ configMapRef: { name: settings.metadata.name } }, { secretRef: { name: 'gitops-rollback-webhook' } }]);
  });

  it('when the pod is read, then it runs as its own ServiceAccount without an API token, and drains before SIGKILL', () => {
    const account = one(objects, 'ServiceAccount');
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    expect(account.automountServiceAccountToken).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
    const pause = container.lifecycle.preStop.sleep.seconds;
    const shutdownMs = Number(container.env.find((e: Obj) => e.name === 'SHUTDOWN_TIMEOUT_MS').value);
    expect(pause).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(pause * 1000 + shutdownMs);
  });

  it('when the NetworkPolicy and the Service are read, then they select these pods and their http port, and only the notifications controller and the scraper are admitted', () => {
    const labels = deployment.spec.template.metadata.labels;
    const policy = one(objects, 'NetworkPolicy');
    const service = one(objects, 'Service');
    expect(matches(policy.spec.podSelector.matchLabels, labels)).toBe(true);
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(container.ports.map((p: Obj) => p.name)).toContain('http');
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress.map((rule: Obj) => rule.from[0].podSelector.matchLabels['app.kubernetes.io/name'])).toEqual(['argocd-notifications-controller', 'prometheus']);
    for (const rule of policy.spec.ingress) expect(rule.ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
  });

  if (overlay === 'sqlite') {
    it('when it is the SQLite variant, then one replica, Recreate, the database on the claimed volume, and no disruption budget', () => {
      expect(deployment.spec.replicas).toBe(1);
      expect(deployment.spec.strategy.type).toBe('Recreate');
      const claim = one(objects, 'PersistentVolumeClaim');
      const volume = pod.volumes.find((v: Obj) => v.persistentVolumeClaim?.claimName === claim.metadata.name);
      const mount = container.volumeMounts.find((m: Obj) => m.name === volume.name);
      expect(container.env.find((e: Obj) => e.name === 'DATABASE_URL').value).toBe(`sqlite:${mount.mountPath}/rollback.db`);
      expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    });
  } else {
    it('when it is the PostgreSQL variant, then two replicas, rolling updates that keep both, a disruption budget, and DATABASE_URL from the Secret', () => {
      expect(deployment.spec.replicas).toBe(2);
      expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      const budget = one(objects, 'PodDisruptionBudget');
      expect(budget.spec.minAvailable).toBe(1);
      expect(matches(budget.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
      expect(container.env.find((e: Obj) => e.name === 'DATABASE_URL').valueFrom).toEqual({ secretKeyRef: { name: 'gitops-rollback-webhook', key: 'DATABASE_URL' } });
      expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    });
  }
});

describe('the Argo CD Application that deploys this service', () => {
  it('when read, then it deploys an overlay that exists, into argocd, with pruning and self-heal', () => {
    const application = parse(readFileSync(join(ROOT, 'deploy', 'argocd', 'gitops-rollback-webhook.application.yaml'), 'utf8')) as Obj;
    expect(existsSync(join(ROOT, application.spec.source.path, 'kustomization.yaml'))).toBe(true);
    expect(application.spec.destination.namespace).toBe('argocd');
    expect(application.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });
});
