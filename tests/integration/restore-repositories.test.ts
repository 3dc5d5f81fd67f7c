import request from 'supertest';
import { listEvents } from '../../src/store/events.repository';
import { REV_7, REV_8, REV_9, multiSourceApp, toStateBody } from '../support/argocd-fixtures';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, type Harness, type HarnessOptions } from '../support/harness';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
/** The values repository's own commits (another repository, other ids). */
const VAL_7 = '7'.repeat(40);
const VAL_8 = '8'.repeat(40);
const VAL_9 = '9'.repeat(40);

/**
 * A multi-source app whose chart lives in one GitOps repository (acme/charts, a Helm chart in git) and
 * whose values live in another (acme/helm-values, ref: values). The bad deploy changed both.
 */
function twoRepositories() {
  return multiSourceApp(
    'shop',
    [
      { repoURL: 'https://github.com/acme/charts.git', targetRevision: 'main', path: 'charts/shop', helm: { valueFiles: ['$values/shop/values-prod.yaml'] } },
      { repoURL: 'git@github.com:acme/helm-values.git', targetRevision: 'main', ref: 'values' },
    ],
    ['Helm', 'Directory'],
    [[REV_7, VAL_7], [REV_8, VAL_8], [REV_9, VAL_9]],
  );
}

describe.each(DIALECTS)('one rollback, several repositories, on %s', (_dialect, createDatabase) => {
  let h: Harness;
  const start = async (options: HarnessOptions = {}) => {
    h = await createHarness({ repos: ['acme/gitops', 'acme/charts', 'acme/helm-values'], ...options, database: await createDatabase() });
  };
  afterEach(async () => {
    expect(h.github.received.flatMap((r) => r.schemaErrors)).toEqual([]);
    await h.close();
  });
  const post = (body: unknown) => request(h.app).post('/v1/webhooks/argocd').set(auth).send(body as object);

  it("when a multi-source app's changed sources live in two repositories, then one event and one dispatch go to each, with that repository's healthy commit and paths", async () => {
    await start();
    const res = await post(toStateBody(twoRepositories()));
    expect(res.status).toBe(202);
    const [first, second] = res.body.restore as Array<{ id: string; repository: string; from: string; paths: string[] }>;
    expect(res.body).toMatchObject({ id: first!.id, failed_revision: REV_9, healthy_revision: REV_8, target_reason: 'from history id 8' });
    expect(res.body.restore).toEqual([
      { id: res.body.id, repository: 'acme/charts', from: 'application', paths: ['charts/shop'] },
      { id: expect.any(String), repository: 'acme/helm-values', from: 'application', paths: ['shop/values-prod.yaml'] },
    ]);
    await h.waitForStatus(first!.id, 'delivered');
    await h.waitForStatus(second!.id, 'delivered');
    const sent = h.github.accepted().map((d) => ({ repository: `${d.owner}/${d.repo}`, payload: d.body?.client_payload }));
    expect(sent.sort((a, b) => a.repository.localeCompare(b.repository))).toEqual([
      { repository: 'acme/charts', payload: { app: 'shop', failed_revision: REV_9, healthy_revision: REV_8, event_id: first!.id, dispatch_id: expect.any(String), restore_paths: 'charts/shop' } },
      { repository: 'acme/helm-values', payload: { app: 'shop', failed_revision: REV_9, healthy_revision: VAL_8, event_id: second!.id, dispatch_id: expect.any(String), restore_paths: 'shop/values-prod.yaml' } },
    ]);
    const view = (await request(h.app).get(`/v1/events/${second!.id}`).set(admin)).body as Record<string, unknown>;
    expect(view).toMatchObject({
      repository: 'acme/helm-values',
      healthy_revision: VAL_8,
      restore: {
        from: 'application',
        paths: [{ path: 'shop/values-prod.yaml', why: expect.stringMatching(/^value file \$values\/shop\/values-prod\.yaml of source 0 .*from source 1/) }],
        notes: [],
        other_events: [{ id: first!.id, repository: 'acme/charts' }],
      },
    });

    // Argo CD's retry trigger sends the same state: a duplicate, nothing more stored or sent.
    const again = await post(toStateBody(twoRepositories()));
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'duplicate', id: first!.id });
    expect(await listEvents(h.store.db, { limit: 10 })).toHaveLength(2);
    expect(h.github.received).toHaveLength(2);
  });

  it('when the loop guard counts, then one rollback in two repositories counts once', async () => {
    await start({ worker: false, env: { ROLLBACK_MAX_PER_WINDOW: '2' } });
    expect((await post(toStateBody(twoRepositories()))).status).toBe(202);
    // A second, different failure of the same app: the second rollback in the window is still allowed.
    const next = twoRepositories() as unknown as { status: { operationState: { syncResult: { revisions: string[] } }; sync: { revisions: string[] } } };
    const bad = ['a'.repeat(40), 'b'.repeat(40)];
    next.status.operationState.syncResult.revisions = bad;
    next.status.sync.revisions = bad;
    const res = await post(toStateBody(next as never));
    expect(res.status).toBe(202);
    expect(res.body.restore).toHaveLength(2);
  });
});
