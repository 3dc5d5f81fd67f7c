import request from 'supertest';
import { OPENAPI_DOCUMENT } from '../../src/http/openapi';
import { createHarness } from '../support/harness';
import { checkResponse } from '../support/openapi-check';

describe('the OpenAPI document and its check', () => {
  it('when the document is read, then it is OpenAPI 3.1 and describes every endpoint the router serves', () => {
    expect(OPENAPI_DOCUMENT.openapi).toBe('3.1.0');
    const operations = Object.entries(OPENAPI_DOCUMENT.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      [
        'POST /', 'POST /v1/webhooks/argocd', 'GET /v1/events', 'GET /v1/events/{id}', 'POST /v1/events/{id}/replay', 'POST /v1/events/{id}/acknowledge', 'GET /v1/apps', 'GET /v1/apps/{app}',
        'POST /v1/apps/{app}/pause', 'POST /v1/apps/{app}/resume', 'GET /v1/status', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json',
      ].sort(),
    );
  });

  it.each([
    ['a documented answer', 'GET', '/healthz', 200, { status: 'ok' }, undefined],
    ['a body that breaks the schema', 'GET', '/healthz', 200, { status: 'fine' }, /does not match the OpenAPI document/],
    ['a status the operation does not list', 'GET', '/healthz', 418, { error: { code: 'INTERNAL', message: 'x' } }, /answered 418, which the OpenAPI document does not list/],
    ['an error code outside the catalogue', 'POST', '/v1/webhooks/argocd', 422, { error: { code: 'NOPE', message: 'x' } }, /does not match/],
    ['an event with an undocumented field', 'GET', '/v1/events', 200, { events: [{ surprise: 1 }] }, /does not match/],
    ['a 200 on a path the document does not have', 'GET', '/v1/secret', 200, {}, /is not in the OpenAPI document/],
  ])('when the check sees %s, then it says so', (_name, method, path, status, body, problem) => {
    const found = checkResponse(method, `http://127.0.0.1${path}`, status, 'application/json; charset=utf-8', body);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('when GET /openapi.json is asked, then the document is served', async () => {
    const h = await createHarness({ worker: false });
    try {
      const res = await request(h.app).get('/openapi.json');
      expect(res.status).toBe(200);
      expect(res.body).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
    } finally {
      await h.close();
    }
  });
});
