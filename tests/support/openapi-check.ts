/**
 * Checks every response a test receives through supertest against the OpenAPI document
 * (src/http/openapi.ts): the operation (method and path template) must document the status, and a
 * JSON body must validate against its schema. Loaded for every suite (jest setupFilesAfterEnv); a
 * response that does not match fails the request, and so the test that made it.
 */
import Ajv2020 from 'ajv/dist/2020';
import request from 'supertest';
import { OPENAPI_DOCUMENT } from '../../src/http/openapi';

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(OPENAPI_DOCUMENT, 'openapi.json');
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
function validatorFor(ref: string) {
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi.json#/${ref}` });
    compiled.set(ref, validate);
  }
  return validate;
}

type Operation = { responses: Record<string, { content?: Record<string, unknown> }> };
const paths = OPENAPI_DOCUMENT.paths as Record<string, Record<string, Operation>>;
const templates = Object.keys(paths).map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`) }));

/** What is wrong with one response, or undefined. */
export function checkResponse(method: string, url: string, status: number, contentType: string | undefined, body: unknown): string | undefined {
  const path = new URL(url).pathname;
  // The status page is HTML for people, not part of the JSON API (tests/integration/status-page.test.ts checks it).
  if (path === '/ui' || path.startsWith('/ui/')) return undefined;
  const template = templates.find((t) => t.pattern.test(path))?.template;
  const operation = template ? paths[template]?.[method.toLowerCase()] : undefined;
  const isJson = (contentType ?? '').startsWith('application/json');
  if (!template || !operation) {
    // Not an endpoint (an unknown route or method): the answer must still be the error shape.
    if (status < 400) return `${method} ${path} answered ${status} but is not in the OpenAPI document`;
    return isJson && !validatorFor('components/schemas/Error')(body) ? `${method} ${path} ${status}: not the Error shape` : undefined;
  }
  const documented = operation.responses[String(status)];
  if (!documented) return `${method} ${template} answered ${status}, which the OpenAPI document does not list (${Object.keys(operation.responses).join(', ')})`;
  if (!isJson || !documented.content?.['application/json']) return undefined;
  const validate = validatorFor(pointer('paths', template, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema'));
  if (validate(body)) return undefined;
  return `${method} ${template} ${status}: the body does not match the OpenAPI document: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 400)}`;
}

type EndCallback = (err: unknown, res?: { status: number; headers: Record<string, string>; body: unknown }) => void;
const TestClass = (request as unknown as { Test: { prototype: { end(fn: EndCallback): unknown; method: string; url: string } } }).Test;
// eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the right `this`
const originalEnd = TestClass.prototype.end;
TestClass.prototype.end = function patchedEnd(this: { method: string; url: string }, fn: EndCallback) {
  return originalEnd.call(this, (err: unknown, res) => {
    if (res) {
      const problem = checkResponse(this.method, this.url, res.status, res.headers['content-type'], res.body);
      if (problem) return fn(new Error(`OpenAPI: ${problem}`), res);
    }
    fn(err, res);
  });
};
