import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { listActions } from '../../src/store/admin-actions.repository';
import { openStore, type Store } from '../../src/store/database';
import { findPause, pauseApp } from '../../src/store/pauses.repository';
import { listEvents } from '../../src/store/events.repository';
import { LIVE_REFRESH_MS } from '../../src/ui/status-page-data';
import { KIND_APPS, toStateBody } from '../support/argocd-fixtures';
import { failDelivery } from '../support/deliveries';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, createManualClock, failedRevision, seedBody, type Harness } from '../support/harness';
import { csrfOf, signIn } from '../support/ui-agent';

const webhook = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const HOSTILE = '<img src=x onerror=alert(1)>';

describe.each(DIALECTS)('the status page on %s', (_dialect, createDatabase) => {
  let h: Harness;
  const clock = createManualClock(Date.now());
  beforeEach(async () => {
    h = await createHarness({ worker: false, clock, database: await createDatabase(), env: { UI_SESSION_HOURS: '2' } });
  });
  afterEach(() => h.close());

  const rollback = (app = 'podinfo-prod', n = 1) => request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app, failed_revision: failedRevision(n) }));

  it('when nobody is signed in, then every page redirects to the sign-in form, the live part answers 401 and the JSON API still wants its bearer token', async () => {
    const overview = await request(h.app).get('/ui/');
    expect(overview.status).toBe(303);
    expect(overview.headers.location).toBe('/ui/login?next=%2Fui%2F');
    expect((await request(h.app).get('/ui/apps/podinfo-prod')).headers.location).toBe('/ui/login?next=%2Fui%2Fapps%2Fpodinfo-prod');
    expect((await request(h.app).get('/ui/overview/live')).status).toBe(401);
    expect((await request(h.app).post('/ui/apps/podinfo-prod/pause').type('form').send({ reason: 'x' })).headers.location).toBe('/ui/login');
    expect(await findPause(h.store.db, 'podinfo-prod')).toBeUndefined();

    const agent = await signIn(h);
    expect((await agent.get('/v1/events')).status).toBe(401);
  });

  it('when the token is wrong, then 401 with no cookie, and the token is in no log line; when right, then a signed HttpOnly SameSite=Strict cookie that expires', async () => {
    const wrong = await request(h.app).post('/ui/login').type('form').send({ name: 'Mallory', token: 'guessing-the-admin-token', next: '/ui/' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong token.');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(h.logs.entries.some((l) => l.msg === 'status page sign-in refused: wrong admin token' && l.name === 'Mallory')).toBe(true);

    const right = await request(h.app).post('/ui/login').type('form').send({ name: 'Ana', token: ADMIN_TOKEN, next: '/ui/apps/podinfo-prod' });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe('/ui/apps/podinfo-prod');
    const cookie = String(right.headers['set-cookie']);
    expect(cookie).toMatch(/^rollback_ui_session=s%3Aj%3A/);
    expect(cookie).toMatch(/; Max-Age=7200;/);
    expect(cookie).toMatch(/; Path=\/ui;/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(ADMIN_TOKEN);
    expect(h.logs.text()).not.toContain(ADMIN_TOKEN);
    expect(h.logs.text()).not.toContain('guessing-the-admin-token');

    // Altered by hand, the cookie's signature fails: signed out.
    const forged = cookie.split(';')[0]!.replace('Ana', 'Eve');
    expect((await request(h.app).get('/ui/').set('Cookie', forged)).status).toBe(303);
    const genuine = cookie.split(';')[0]!;
    expect((await request(h.app).get('/ui/').set('Cookie', genuine)).status).toBe(200);
    // Past its lifetime the same cookie is refused even if a browser kept it.
    clock.advance(2 * 3_600_000 + 1000);
    expect((await request(h.app).get('/ui/').set('Cookie', genuine)).status).toBe(303);
  });

  describe('sessions in the store', () => {
    const cookieOf = async (app: Express, name = 'Ana') => {
      const res = await request(app).post('/ui/login').type('form').send({ name, token: ADMIN_TOKEN, next: '/ui/' });
      expect(res.status).toBe(303);
      return String(res.headers['set-cookie']).split(';')[0]!;
    };
    const open = (app: Express, cookie: string) => request(app).get('/ui/').set('Cookie', cookie);
    const post = async (app: Express, cookie: string, path: string) => {
      const csrf = csrfOf((await open(app, cookie)).text);
      return request(app).post(path).set('Cookie', cookie).type('form').send({ _csrf: csrf });
    };
    /** Another replica on the same database (its own connections), or this one after a restart. */
    const replica = () => {
      const store = openStore(h.config.databaseUrl);
      stores.push(store);
      return createApp({ config: h.config, logger: createLogger('silent'), store, clock });
    };
    const stores: Store[] = [];
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    it('when a user signs out, then a copy of the cookie taken before opens nothing, on this replica and on another', async () => {
      const other = replica();
      const cookie = await cookieOf(h.app);
      expect((await open(h.app, cookie)).status).toBe(200);
      // Sessions live in the store: another replica (or this one restarted) knows it.
      expect((await open(other, cookie)).status).toBe(200);
      const out = await post(h.app, cookie, '/ui/logout');
      expect(out.status).toBe(303);
      expect(out.headers.location).toBe('/ui/login');
      expect((await open(h.app, cookie)).status).toBe(303);
      expect((await open(other, cookie)).status).toBe(303);
      expect((await request(other).get('/ui/overview/live').set('Cookie', cookie)).status).toBe(401);
    });

    it('when someone signs out everywhere, then every open session ends, on every replica, and a new sign-in works', async () => {
      const other = replica();
      const ana = await cookieOf(h.app, 'Ana');
      const ben = await cookieOf(other, 'Ben');
      expect((await post(other, ben, '/ui/logout-everywhere')).status).toBe(303);
      for (const app of [h.app, other]) {
        expect((await open(app, ana)).status).toBe(303);
        expect((await open(app, ben)).status).toBe(303);
      }
      expect((await open(h.app, await cookieOf(h.app, 'Cleo'))).status).toBe(200);
    });
  });

  it('when a Degraded report cannot roll back (no healthy revision), then the overview, /v1/apps and the app say so with why, and people are told once, not per re-send', async () => {
    await h.close();
    h = await createHarness({ worker: false, clock, database: await createDatabase(), env: { NOTIFY_URL: 'http://127.0.0.1:9/hook' } });
    const degraded = { app: 'never-healthy', status: 'Degraded', revision: failedRevision(41) };
    for (let i = 0; i < 3; i += 1) {
      const res = await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(degraded);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('NO_HEALTHY_REVISION');
    }
    const apps = (await request(h.app).get('/v1/apps').set(admin)).body as { apps: Array<{ app: string; last_refusal: { revision: string; reason: string; newer_than_last_rollback: boolean } | null; last_rollback: unknown }> };
    const row = apps.apps.find((a) => a.app === 'never-healthy')!;
    expect(row.last_rollback).toBeNull();
    expect(row.last_refusal).toMatchObject({ revision: failedRevision(41), reason: expect.stringMatching(/healthy/), newer_than_last_rollback: true });
    const one = (await request(h.app).get('/v1/apps/never-healthy').set(admin)).body as { degraded_without_rollback: Array<{ revision: string; reason: string }> };
    expect(one.degraded_without_rollback).toEqual([expect.objectContaining({ revision: failedRevision(41), reason: row.last_refusal!.reason })]);
    const overview = (await (await signIn(h)).get('/ui/')).text;
    expect(overview).toContain('<span class="badge bad">no rollback</span>');
    expect(overview).toContain(`<div class="note">${row.last_refusal!.reason}</div>`);
    const told = await h.store.db.selectFrom('notifications').select(['kind', 'app']).where('app', '=', 'never-healthy').execute();
    expect(told).toEqual([{ kind: 'no_target', app: 'never-healthy' }]);
  });

  it("when apps differ (rollbacks in and out of their own loop-guard window, a pause, a health report, a refusal older than the last rollback), then each overview row says what that app's own facts say", async () => {
    await h.close();
    const dir = mkdtempSync(join(tmpdir(), 'overview-rows-'));
    const routes = join(dir, 'routes.yaml');
    writeFileSync(routes, 'routes:\n  - app: batch\n    rollback_window_minutes: 5\n');
    h = await createHarness({ worker: false, clock, database: await createDatabase(), env: { ROUTES_FILE: routes } });
    try {
      expect((await rollback('batch', 1)).status).toBe(202);
      expect((await request(h.app).post('/v1/webhooks/argocd').set(webhook).send({ app: 'web', status: 'Degraded', revision: failedRevision(40) })).status).toBe(422);
      clock.advance(10 * 60_000);
      expect((await rollback('batch', 2)).status).toBe(202);
      expect((await rollback('web', 3)).status).toBe(202);
      expect((await rollback('web', 4)).status).toBe(202);
      expect((await request(h.app).post('/v1/webhooks/argocd').set(webhook).send({ app: 'web', status: 'Healthy', revision: failedRevision(9) })).status).toBe(200);
      expect((await request(h.app).post('/v1/apps/web/pause').set(admin).send({ reason: 'migration', by: 'Ana' })).status).toBe(200);
      expect((await request(h.app).post('/v1/webhooks/argocd').set(webhook).send({ app: 'never-healthy', status: 'Degraded', revision: failedRevision(41) })).status).toBe(422);

      const html = (await (await signIn(h)).get('/ui/')).text;
      const row = (app: string) => new RegExp(`<tr><th scope="row"><a href="/ui/apps/${app}">${app}</a></th>(.*?)</tr>`).exec(html)?.[1] ?? '';
      const text = (app: string) => row(app).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
      expect(html).toContain('3 apps');
      // Its own 5-minute window: the rollback 10 minutes ago is outside it.
      expect(text('batch')).toMatch(/^no report no queued .* none 1 of 3 in 5 min$/);
      // The refusal is older than its rollbacks: the last rollback shows, not the refusal.
      expect(text('web')).toMatch(new RegExp(`^Healthy ${failedRevision(9).slice(0, 8)} copy .* paused by Ana queued .* none 2 of 3 in 60 min$`));
      expect(row('web')).not.toContain('no rollback');
      expect(text('never-healthy')).toMatch(/^Degraded .* no no rollback .* no healthy revision .* none 0 of 3 in 60 min$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the sign-in form names a page elsewhere, then it goes to the overview instead', async () => {
    const res = await request(h.app).post('/ui/login').type('form').send({ name: 'Ana', token: ADMIN_TOKEN, next: '//evil.example/ui/' });
    expect(res.headers.location).toBe('/ui/');
  });

  it('when a page is served, then it has a strict CSP, no inline script or style, and is not cached', async () => {
    await rollback();
    const agent = await signIn(h);
    for (const path of ['/ui/', '/ui/apps/podinfo-prod', `/ui/events/${(await listEvents(h.store.db, { limit: 1 }))[0]!.id}`, '/ui/login']) {
      const res = await agent.get(path);
      expect(res.status).toBe(200);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.text).not.toMatch(/\sstyle=/);
      expect(res.text).not.toMatch(/\son[a-z]+=/i);
    }
    const script = await request(h.app).get('/ui/static/ui.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
  });

  it(`when an app is named ${HOSTILE} and reasons and payload extras carry markup, then every page shows them as text`, async () => {
    // No route takes such a name any more (422, as the webhook); one stored before that rule is shown as text.
    expect((await request(h.app).post(`/v1/apps/${encodeURIComponent(HOSTILE)}/pause`).set(admin).send({ reason: 'x', by: 'y', allow_unseen: true })).status).toBe(422);
    await pauseApp(h.store.db, { app: HOSTILE, reason: '<script>alert(2)</script>', by: '<b>eve</b>', since: h.clock.now() });
    const accepted = await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ note: '<img src=y onerror=alert(3)>' }));
    expect(accepted.status).toBe(202);
    const agent = await signIn(h, '<i>ana</i>');

    const overview = await agent.get('/ui/');
    expect(overview.text).toContain('&lt;img src=x onerror=alert(1)>');
    expect(overview.text).toContain('paused by &lt;b>eve&lt;/b>');
    expect(overview.text).toContain('signed in as &lt;i>ana&lt;/i>');
    expect(overview.text).toContain(`href="/ui/apps/${encodeURIComponent(HOSTILE)}"`);
    const appPage = await agent.get(`/ui/apps/${encodeURIComponent(HOSTILE)}`);
    expect(appPage.status).toBe(200);
    expect(appPage.text).toContain('&lt;script>alert(2)&lt;/script>');
    const rollbackPage = await agent.get(`/ui/events/${accepted.body.id as string}`);
    expect(rollbackPage.text).toContain('&quot;note&quot;: &quot;&lt;img src=y onerror=alert(3)>&quot;');
    for (const html of [overview.text, appPage.text, rollbackPage.text]) {
      expect(html).not.toMatch(/<img|<script>alert|<b>eve|<i>ana/);
    }
  });

  it('when an app is paused from its page, then a confirmation comes first, the rollback is then refused, and who and why are recorded and shown', async () => {
    await rollback('podinfo-prod', 1);
    const agent = await signIn(h, 'Ana Ops');
    const page = await agent.get('/ui/apps/podinfo-prod');
    const csrf = csrfOf(page.text);
    expect(csrf).not.toBe('');

    const confirm = await agent.post('/ui/apps/podinfo-prod/pause').type('form').send({ _csrf: csrf, reason: 'database migration' });
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Pause podinfo-prod?');
    expect(confirm.text).toContain('name="confirm" value="yes"');
    expect(await findPause(h.store.db, 'podinfo-prod')).toBeUndefined();

    const done = await agent.post('/ui/apps/podinfo-prod/pause').type('form').send({ _csrf: csrf, reason: 'database migration', confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/ui/apps/podinfo-prod');
    expect(await findPause(h.store.db, 'podinfo-prod')).toMatchObject({ by: 'Ana Ops', reason: 'database migration' });
    expect((await rollback('podinfo-prod', 2)).status).toBe(409);
    expect(await listActions(h.store.db, 'podinfo-prod', 10)).toEqual([expect.objectContaining({ action: 'pause', by: 'Ana Ops', reason: 'database migration', via: 'ui' })]);
    expect(h.logs.entries.some((l) => l.msg === 'app paused from the status page: its rollbacks are refused until resumed (database migration)' && l.by === 'Ana Ops')).toBe(true);

    const after = await agent.get('/ui/apps/podinfo-prod');
    expect(after.text).toContain('pause by <strong>Ana Ops</strong>');
    expect(after.text).toContain('Resume…');

    const resumed = await agent.post('/ui/apps/podinfo-prod/resume').type('form').send({ _csrf: csrf, reason: 'migration done', confirm: 'yes' });
    expect(resumed.status).toBe(303);
    expect(await findPause(h.store.db, 'podinfo-prod')).toBeUndefined();
    expect((await listActions(h.store.db, 'podinfo-prod', 10)).map((a) => a.action)).toEqual(['resume', 'pause']);
  });

  it("when a rollback restores what the Application renders from, then its page lists each path and why, and the app page says where paths come from", async () => {
    const state = toStateBody(KIND_APPS.helmTwoValueFiles());
    const accepted = await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(state);
    expect(accepted.status).toBe(202);
    const agent = await signIn(h);
    const page = (await agent.get(`/ui/events/${accepted.body.id as string}`)).text;
    const section = page.slice(page.indexOf('What is restored'));
    expect(section).toMatch(/In acme\/gitops as of .*worked out from the Argo CD Application’s sources/s);
    const rows = [...section.matchAll(/<tr><td><code>([^<]+)<\/code><\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual([
      ['charts/podinfo/values-common.yaml', expect.stringMatching(/^Helm value file values-common\.yaml of source 0/)],
      ['charts/podinfo/values-prod.yaml', expect.stringMatching(/^Helm value file values-prod\.yaml of source 0/)],
      ['charts/podinfo/.argocd-source-podinfo-two.yaml', expect.stringMatching(/^Argo CD Image Updater(&#39;|&#x27;|')s write-back file of source 0/)],
    ]);
    const appPage = (await agent.get('/ui/apps/podinfo-two')).text;
    expect(appPage).toContain('worked out from the Application’s sources (each rollback shows its paths)');
  });

  it('when a form comes without the session token, with a stale one, or from another origin, then 403 and nothing changes', async () => {
    const agent = await signIn(h);
    const csrf = csrfOf((await agent.get('/ui/')).text);
    expect((await agent.post('/ui/apps/podinfo-prod/pause').type('form').send({ reason: 'x', confirm: 'yes' })).status).toBe(403);
    expect((await agent.post('/ui/apps/podinfo-prod/pause').type('form').send({ _csrf: `${csrf}x`, reason: 'x', confirm: 'yes' })).status).toBe(403);
    expect((await agent.post('/ui/apps/podinfo-prod/pause').set('Origin', 'https://evil.example').type('form').send({ _csrf: csrf, reason: 'x', confirm: 'yes' })).status).toBe(403);
    // Another session's token is not this session's.
    const other = await signIn(h, 'Ben');
    const otherCsrf = csrfOf((await other.get('/ui/')).text);
    expect((await agent.post('/ui/apps/podinfo-prod/pause').type('form').send({ _csrf: otherCsrf, reason: 'x', confirm: 'yes' })).status).toBe(403);
    expect(await findPause(h.store.db, 'podinfo-prod')).toBeUndefined();
    expect(await listActions(h.store.db, 'podinfo-prod', 10)).toEqual([]);
  });

  it('when a form names its Origin, then scheme, host and port must all be this service', async () => {
    expect((await rollback()).status).toBe(202);
    const agent = await signIn(h);
    const csrf = csrfOf((await agent.get('/ui/')).text);
    const pause = (origin: string) => agent.post('/ui/apps/podinfo-prod/pause').set('Host', 'rollback.example:8080').set('Origin', origin).type('form').send({ _csrf: csrf, reason: 'incident', confirm: 'yes' });
    for (const other of ['https://rollback.example:8080', 'http://rollback.example:9090', 'http://rollback.example', 'http://evil.example:8080']) {
      expect((await pause(other)).status).toBe(403);
    }
    expect(await findPause(h.store.db, 'podinfo-prod')).toBeUndefined();
    expect((await pause('http://rollback.example:8080')).status).toBe(303);
    expect(await findPause(h.store.db, 'podinfo-prod')).toMatchObject({ reason: 'incident' });
    // Behind an ingress that ends TLS: the browser's origin is https on the default port.
    const resume = await agent.post('/ui/apps/podinfo-prod/resume').set('Host', 'rollback.example').set('X-Forwarded-Proto', 'https').set('Origin', 'https://rollback.example').type('form').send({ _csrf: csrf, reason: 'over', confirm: 'yes' });
    expect(resume.status).toBe(303);
    expect(await findPause(h.store.db, 'podinfo-prod')).toBeUndefined();
  });

  it.each([
    ['/ui/%2e%2e/%2e%2e/evil', '/ui/'],
    ['/ui/%2E%2E/evil', '/ui/'],
    ['/ui/apps/%2e%2e/%2e%2e/%2e%2e/x', '/ui/'],
    ['/ui/apps/x/%2e%2e/y', '/ui/apps/y'],
    ['/ui/apps/podinfo-prod?page=2', '/ui/apps/podinfo-prod?page=2'],
  ])('when the sign-in form is asked to go to %s, then it goes to %s, under /ui/ once resolved', async (next, location) => {
    const res = await request(h.app).post('/ui/login').type('form').send({ name: 'Ana', token: ADMIN_TOKEN, next });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(location);
  });

  it('when a dry-run event is replayed from its page, then it is recorded again with who and why; a queued one offers no replay', async () => {
    const queued = await rollback('podinfo-prod', 1);
    const agent = await signIn(h, 'Ana Ops');
    const queuedPage = await agent.get(`/ui/events/${queued.body.id as string}`);
    expect(queuedPage.text).not.toContain('/replay');
    const csrf = csrfOf(queuedPage.text);
    const refused = await agent.post(`/ui/events/${queued.body.id as string}/replay`).type('form').send({ _csrf: csrf, reason: 'again', confirm: 'yes' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('only delivered, failed or dry_run events can be replayed');

    await failDelivery(h, queued.body.id as string, 'GitHub said 404');
    const failedPage = await agent.get(`/ui/events/${queued.body.id as string}`);
    expect(failedPage.text).toContain('GitHub said 404');
    expect(failedPage.text).toContain('Replay: send it again…');
    const replayed = await agent.post(`/ui/events/${queued.body.id as string}/replay`).type('form').send({ _csrf: csrf, reason: 'token fixed', confirm: 'yes' });
    expect(replayed.status).toBe(303);
    expect((await listEvents(h.store.db, { limit: 1 }))[0]).toMatchObject({ id: queued.body.id, status: 'queued', lastError: null });
    expect(await listActions(h.store.db, 'podinfo-prod', 10)).toEqual([expect.objectContaining({ action: 'replay', eventId: queued.body.id, by: 'Ana Ops', reason: 'token fixed', via: 'ui' })]);
  });

  it('when there are more apps than a page holds, then the overview pages through them, and unknown pages and events are 404 pages', async () => {
    for (let n = 0; n < 55; n += 1) await request(h.app).post('/v1/webhooks/argocd').set(webhook).send({ app: `app-${String(n).padStart(2, '0')}`, status: 'Healthy', revision: failedRevision(n) });
    const agent = await signIn(h);
    const first = await agent.get('/ui/');
    expect(first.text).toContain('55 apps');
    expect(first.text).toContain('>app-49</a>');
    expect(first.text).not.toContain('>app-50</a>');
    expect(first.text).toContain('page 1 of 2');
    const second = await agent.get('/ui/overview/live?page=2');
    expect(second.text).toContain('>app-54</a>');
    expect(second.text).not.toContain('>app-00</a>');
    expect(second.text).not.toMatch(/^<!doctype/);
    const missing = await agent.get('/ui/events/00000000-0000-7000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/text\/html/);
    expect((await agent.get('/ui/apps/never-seen')).status).toBe(404);
  });

  it('when undelivered events pile up or fail, then the overview says so in a banner', async () => {
    const agent = await signIn(h);
    expect((await agent.get('/ui/')).text).not.toContain('not yet delivered');
    const first = await rollback('podinfo-prod', 1);
    await failDelivery(h, first.body.id as string, 'GitHub said 404');
    await rollback('other-app', 2);
    clock.advance(6 * 60_000);
    const page = (await agent.get('/ui/')).text;
    expect(page).toContain('1 event not yet delivered');
    expect(page).toContain('1 failed (open one to see why and replay it once the cause is fixed)');
    // The failed one is linked, with its error, from the banner.
    const banner = page.slice(page.indexOf('not yet delivered'), page.indexOf('</div>', page.indexOf('not yet delivered')));
    expect(banner).toContain(`href="/ui/events/${first.body.id as string}"`);
    expect(banner).toContain('GitHub said 404');

    const failedPage = (await agent.get(`/ui/events/${first.body.id as string}`)).text;
    expect(failedPage).toContain('not followed: the dispatch failed, so no workflow ran; fix the cause (Last error above), then replay');
  });

  it('when the loop guard refuses a rollback, then the overview row shows why, and its page says nothing is sent or followed', async () => {
    for (let n = 1; n <= 3; n += 1) expect((await rollback('looping', n)).status).toBe(202);
    const refused = await rollback('looping', 4);
    expect(refused.status).toBe(409);
    const agent = await signIn(h);
    const overview = (await agent.get('/ui/')).text;
    const row = /<tr><th scope="row"><a href="\/ui\/apps\/looping">looping<\/a><\/th>(.*?)<\/tr>/.exec(overview)![1]!;
    expect(row).toContain('suppressed');
    const reason = /^rollback refused: (.*) \(event /.exec(refused.body.error.message as string)![1]!;
    expect(row).toContain(`<div class="note">${reason}</div>`);
    const [suppressed] = await listEvents(h.store.db, { app: 'looping', status: 'suppressed', limit: 1 });
    const page = (await agent.get(`/ui/events/${suppressed!.id}`)).text;
    expect(page).toContain('none: the loop guard refused this rollback, so nothing is sent');
    expect(page).toContain('not followed: nothing was sent');
  });

  it('when a new app arrives, then its row and the app count show at the next refresh', async () => {
    await rollback('app-a', 1);
    const agent = await signIn(h);
    expect((await agent.get('/ui/overview/live')).text).toContain('1 app ·');
    await rollback('app-b', 2);
    const soon = (await agent.get('/ui/overview/live')).text;
    expect(soon).toContain('>app-b</a>');
    expect(soon).toContain('2 apps ·');
  });

  it('when the API pauses and replays, then the actions are recorded too, by the admin token', async () => {
    await request(h.app).post('/v1/apps/podinfo-prod/pause').set(admin).send({ reason: 'incident', by: 'ben', allow_unseen: true });
    expect(await listActions(h.store.db, 'podinfo-prod', 10)).toEqual([expect.objectContaining({ action: 'pause', by: 'ben', reason: 'incident', via: 'api' })]);
  });
});

describe('the live part of the overview (ETag and 304)', () => {
  let h: Harness;
  const clock = createManualClock(Date.now());
  beforeEach(async () => {
    h = await createHarness({ worker: false, clock });
  });
  afterEach(() => h.close());

  it('when nothing changed, then the live part answers 304 with no body; a rollback, a new page or time passing answer 200 with a new tag', async () => {
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: 'app-a', failed_revision: failedRevision(1) }));
    const agent = await signIn(h);
    const first = await agent.get('/ui/overview/live');
    expect(first.status).toBe(200);
    const tag = String(first.headers.etag);
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    const same = await agent.get('/ui/overview/live').set('If-None-Match', tag);
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    expect(same.headers.etag).toBe(tag);
    // Signed out, a known tag still gets 401, not 304.
    expect((await request(h.app).get('/ui/overview/live').set('If-None-Match', tag)).status).toBe(401);

    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody({ app: 'app-b', failed_revision: failedRevision(2) }));
    const changed = await agent.get('/ui/overview/live').set('If-None-Match', tag);
    expect(changed.status).toBe(200);
    expect(changed.text).toContain('>app-b</a>');
    const next = String(changed.headers.etag);
    expect(next).not.toBe(tag);

    expect((await agent.get('/ui/overview/live?page=2').set('If-None-Match', next)).status).toBe(200);
    expect((await agent.get('/ui/overview/live').set('If-None-Match', next)).status).toBe(304);
    clock.advance(LIVE_REFRESH_MS);
    expect((await agent.get('/ui/overview/live').set('If-None-Match', next)).status).toBe(200);
  });
});

describe('the dry-run banner', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('when DRY_RUN is on, then every page says so; when off, none does', async () => {
    h = await createHarness({ worker: false, env: { DRY_RUN: 'on' } });
    await request(h.app).post('/v1/webhooks/argocd').set(webhook).send(seedBody());
    const agent = await signIn(h);
    const id = (await listEvents(h.store.db, { limit: 1 }))[0]!.id;
    for (const path of ['/ui/', '/ui/apps/podinfo-prod', `/ui/events/${id}`]) {
      expect((await agent.get(path)).text).toContain('<strong>Dry run:</strong> rollbacks are decided, recorded and logged, and nothing is sent to GitHub');
    }
    // Its page does not promise attempts or an outcome that will never come.
    const page = (await agent.get(`/ui/events/${id}`)).text;
    expect(page).toContain('none: a dry run records what it would send and never calls GitHub');
    expect(page).toContain('not followed: a dry run sends nothing, so no workflow runs');
    expect(page).not.toContain('none yet');
    await h.close();
    h = await createHarness({ worker: false });
    expect((await (await signIn(h)).get('/ui/')).text).not.toContain('Dry run');
  });
});

describe('the status page banner for the GitHub wiring', () => {
  it('when the last wiring check failed, then the overview names each failing check', async () => {
    const h = await createHarness({ worker: false });
    try {
      const failing = { repository: 'acme/gitops', check: 'dispatch' as const, ok: false, detail: 'the token may read acme/gitops but not push to it' };
      const app = createApp({
        config: h.config,
        logger: createLogger('silent'),
        store: h.store,
        clock: h.clock,
        wiring: { current: () => ({ checkedAt: h.clock.now(), ok: false, checks: [{ repository: 'acme/gitops', check: 'repository', ok: true, detail: 'visible' }, failing] }) },
      });
      const agent = request.agent(app);
      await agent.post('/ui/login').type('form').send({ name: 'Ana', token: ADMIN_TOKEN });
      const page = (await agent.get('/ui/')).text;
      expect(page).toContain('GitHub wiring check failed:');
      expect(page).toContain('acme/gitops (dispatch): the token may read acme/gitops but not push to it');
      expect(page).not.toContain('(repository): visible');
    } finally {
      await h.close();
    }
  });
});

describe('the status page cookie behind TLS', () => {
  it('when UI_COOKIE_SECURE=true, then the session cookie is Secure', async () => {
    const h = await createHarness({ worker: false, env: { UI_COOKIE_SECURE: 'true' } });
    try {
      const res = await request(h.app).post('/ui/login').type('form').send({ name: 'Ana', token: ADMIN_TOKEN });
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await h.close();
    }
  });
});
