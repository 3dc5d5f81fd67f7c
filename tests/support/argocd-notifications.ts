import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const CONFIGMAP_PATH = join(__dirname, '..', '..', 'deploy', 'argocd', 'argocd-notifications-cm.yaml');

/** The data of the shipped argocd-notifications-cm, each value parsed as Argo CD parses it (YAML). */
export function loadNotificationsConfig(): Record<string, unknown> {
  const configMap = parseYaml(readFileSync(CONFIGMAP_PATH, 'utf8')) as { data: Record<string, string> };
  return Object.fromEntries(Object.entries(configMap.data).map(([key, value]) => [key, parseYaml(value) as unknown]));
}

export interface WebhookService {
  url: string;
  headers: Array<{ name: string; value: string }>;
}

export interface WebhookTemplate {
  webhook: Record<string, { method: string; body: string; path?: string }>;
}

/** Replaces $key references in a service setting with values from argocd-notifications-secret. */
export function resolveSecrets(value: string, secrets: Record<string, string>): string {
  return value.replace(/\$([A-Za-z0-9_-]+)/g, (match, key: string) => secrets[key] ?? match);
}
