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

/**
 * Renders exactly the subset of Go templates the shipped templates use: `{{toJson .app.a.b}}`. A
 * missing field is nil, which toJson renders as null. Anything else between braces is refused, so the
 * shipped templates cannot drift outside what this renderer (and the tests built on it) understand.
 */
export function renderToJsonTemplate(template: string, context: Record<string, unknown>): string {
  const rendered = template.replace(/\{\{\s*toJson\s+((?:\.[A-Za-z0-9_]+)+)\s*\}\}/g, (_match, path: string) => {
    let value: unknown = context;
    for (const key of path.slice(1).split('.')) {
      value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    }
    return JSON.stringify(value ?? null);
  });
  if (rendered.includes('{{')) throw new Error(`template uses more than {{toJson .path}}: ${rendered.slice(rendered.indexOf('{{'), rendered.indexOf('{{') + 60)}`);
  return rendered;
}

/** Replaces $key references in a service setting with values from argocd-notifications-secret. */
export function resolveSecrets(value: string, secrets: Record<string, string>): string {
  return value.replace(/\$([A-Za-z0-9_-]+)/g, (match, key: string) => secrets[key] ?? match);
}
