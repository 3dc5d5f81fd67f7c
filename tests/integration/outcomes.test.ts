import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { findEvent } from '../../src/store/events.repository';
import type { Outcome } from '../../src/domain/rollback-event';
import { ActionsStandIn } from '../support/actions-stand-in';
import { GitOpsRepo, PROD, git } from '../support/gitops-repo';
import { ADMIN_TOKEN, GITHUB_TOKEN, WEBHOOK_TOKEN, createHarness, createManualClock, type Harness, type HarnessOptions } from '../support/harness';
import { NotifyReceiver } from '../support/notify-receiver';
import { csrfOf, signIn } from '../support/ui-agent';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * Every delivered rollback followed to its outcome, through the front door: webhook → dispatch → the
 * Actions stand-in runs the shipped script on real git and records a run → the service finds run and
 * restore commit on the fake GitHub → a Healthy report → verified, with a notification. Time is scaled
 * down through the settings (polls of 20 ms, lookups of a second), not by sleeping.
 */
describe('rollback outcomes and notifications', () => {
  let repo: GitOpsRepo;
  let h: Harness | undefined;
  let actions: ActionsStandIn;
  let receiver: NotifyReceiver;
  let dir: string;

  beforeEach(async () => {
    repo = new GitOpsRepo();
    receiver = await new NotifyReceiver().start();
    dir = mkdtempSync(join(tmpdir(), 'outcomes-'));
  });
  afterEach(async () => {
    await actions?.settled();
    if (h) {
      expect(h.logs.text()).not.toContain(GITHUB_TOKEN);
      expect(h.logs.text()).not.toContain(receiver.url);
      expect(h.logs.text()).not.toContain('stand-in-not-a-secret');
      await h.close();
      h = undefined;
    }
    await receiver.stop();
    repo.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}, options: HarnessOptions = {}): Promise<Harness> {
    const routes = join(dir, 'routes.yaml');
    writeFileSync(routes, `routes:\n  - app: podinfo-prod\n    values_paths: [${PROD}]\n`);
    h = await createHarness({
      ...options,
      gitRepos: { 'acme/gitops': repo.origin },
      env: {
        ROUTES_FILE: routes,
        NOTIFY_URL: receiver.url,
        OUTCOME_POLL_MS: '20',
        OUTCOME_POLL_MAX_MS: '200',
        RUN_LOOKUP_SECONDS: '10',
        VERIFY_TIMEOUT_SECONDS: '30',
        ...env,
      },
    });
    actions = new ActionsStandIn(h.github, repo);
    return h;
  }

  const rollback = async (harness: Harness) => {
    const res = await request(harness.app)
      .post('/v1/webhooks/argocd')
      .set(auth)
      .send({ client_payload: { app: 'podinfo-prod', failed_revision: repo.commits.failed, healthy_revision: repo.commits.healthy } });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const healthy = (harness: Harness, revision: string) => request(harness.app).post('/v1/webhooks/argocd').set(auth).send({ app: 'podinfo-prod', status: 'Healthy', revision });

  async function waitForOutcome(harness: Harness, id: string, outcome: Outcome, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: Outcome | null | undefined;
    while (Date.now() < deadline) {
      last = (await findEvent(harness.store.db, id))?.event.outcome;
      if (last === outcome) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`event ${id} did not reach outcome ${outcome} within ${timeoutMs} ms (last: ${last})`);
  }
  /** Waits until the event's outcome history (every follow-up, oldest first) satisfies `done`. */
  async function waitForHistory(harness: Harness, id: string, done: (history: EventBody['outcome_history']) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done((await view(harness, id)).outcome_history)) {
      if (Date.now() > deadline) throw new Error(`event ${id}: outcome history not as expected within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  interface EventBody {
    status: string;
    outcome: string;
    outcome_reason: string;
    run_url: string;
    restore_commit: string | null;
    redispatches: number;
    outcome_history: Array<{ outcome: string; reason: string; url: string | null }>;
    verified_by: unknown;
  }
  const view = async (harness: Harness, id: string) => (await request(harness.app).get(`/v1/events/${id}`).set(admin)).body as EventBody;
  const kinds = () => receiver.messages.map((m) => /: (rollback [^(]*|Degraded[^(]*) \(/.exec(String(m.text))?.[1]?.trim());

  it('when the workflow restores and Argo CD reports Healthy at the restore commit, then verified, with its history, and two notifications', async () => {
    const harness = await start();
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restored');
    const restore = repo.mainHead();
    expect(git(repo.origin, 'log', '-1', '--format=%B', 'main')).toContain(`Rollback-Event: ${id}`);
    expect((await healthy(harness, restore)).status).toBe(200);
    await waitForOutcome(harness, id, 'verified');

    const event = await view(harness, id);
    expect(event).toMatchObject({ status: 'delivered', outcome: 'verified', restore_commit: restore, run_url: expect.stringMatching(/\/actions\/runs\/\d+$/), redispatches: 0 });
    expect(event.outcome_history.map((e) => e.outcome)).toEqual(['awaiting_run', 'restoring', 'restored', 'verified']);
    expect(event.outcome_history[2]!.reason).toBe(`run succeeded; restore commit ${restore.slice(0, 12)} is on main`);
    expect(event.verified_by).toEqual({ report_id: expect.any(String), revision: restore, reported_at: expect.any(String) });
    const listed = (await request(harness.app).get('/v1/events?outcome=verified').set(admin)).body as { events: Array<{ id: string }> };
    expect(listed.events.map((e) => e.id)).toEqual([id]);
    expect((await request(harness.app).get('/v1/apps/podinfo-prod').set(admin)).body.last_outcome).toBe('verified');

    await receiver.waitFor((r) => r.messages.length === 2);
    expect(kinds()).toEqual(['rollback dispatched to GitHub', 'rollback verified: Healthy again']);
    const verified = receiver.texts()[1]!;
    expect(verified).toContain(`podinfo-prod: rollback verified: Healthy again (${repo.commits.failed.slice(0, 12)} → ${repo.commits.healthy.slice(0, 12)})`);
    expect(verified).toContain(`Argo CD reported the app Healthy at ${restore.slice(0, 12)}`);
    expect(verified).toContain(`event ${id}`);
    // Budget: a handful of reads for the whole follow-up, far inside 5,000 an hour.
    expect(harness.github.reads.length).toBeLessThan(40);
  });

  it('when the run is cancelled, then the same event is dispatched again, counted, and verified', async () => {
    const harness = await start();
    actions.plan.push('cancel', 'run');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restored');
    await healthy(harness, repo.mainHead());
    await waitForOutcome(harness, id, 'verified');

    expect(harness.github.accepted().map((d) => d.body?.client_payload?.event_id)).toEqual([id, id]);
    const event = await view(harness, id);
    expect(event.redispatches).toBe(1);
    expect(event.outcome_history.map((e) => e.reason)).toContainEqual(expect.stringMatching(/^workflow run \d+ was cancelled; dispatched again \(1 of 2\)$/));
    await receiver.waitFor((r) => r.messages.length === 2);
    expect(kinds()).toEqual(['rollback dispatched to GitHub', 'rollback verified: Healthy again']);
  });

  it('when the run is cancelled more often than RESTORE_MAX_REDISPATCH, then restore_failed', async () => {
    const harness = await start({ RESTORE_MAX_REDISPATCH: '1' });
    actions.plan.push('cancel', 'cancel');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restore_failed');
    expect(harness.github.accepted()).toHaveLength(2);
    expect((await view(harness, id)).outcome_reason).toMatch(/was cancelled, after 1 re-dispatch \(RESTORE_MAX_REDISPATCH=1\)$/);
  });

  it('when the run fails, then restore_failed names the failed job, step and cause with its remedy, links the step, and one notification says so', async () => {
    const harness = await start();
    actions.plan.push('fail');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restore_failed');
    const event = await view(harness, id);
    expect(event.outcome_reason).toMatch(
      /^workflow run \d+ concluded failure: job "restore" failed at step "Restore what the app renders from as of the healthy revision": bash: deploy\/github\/restore-values\.sh: No such file or directory — the restore script is missing from the GitOps repository; copy deploy\/github\/restore-values\.sh/,
    );
    // The link goes to the failed step in the job's log, GitHub's own anchor.
    const stepUrl = `${event.run_url}/job/${harness.github.jobs[0]!.id}#step:3:1`;
    expect(event.outcome_history.at(-1)).toMatchObject({ outcome: 'restore_failed', url: stepUrl });
    // The log came from the signed address, without the token (the fake refuses a token there).
    expect(harness.github.reads.filter((r) => r.path.startsWith('/_blob/')).map((r) => r.status)).toEqual([200]);
    await receiver.waitFor((r) => r.messages.length === 2);
    expect(kinds()).toEqual(['rollback dispatched to GitHub', 'rollback needs a person: the restore failed']);
    expect(receiver.texts()[1]).toContain(stepUrl);
    expect(receiver.texts()[1]).toContain('the restore script is missing from the GitOps repository');
    // The outcome worker logs after its commit, so the notifier may have sent before the line is written.
    const line = await harness.waitForLog((entry) => entry.eventId === id && entry.outcome === 'restore_failed', 'the restore_failed outcome');
    expect(line.level).toBe(50);
    // Counted before that line: the README's alert rule reads this counter (retention cannot lower it).
    const metrics = (await request(harness.app).get('/metrics').set(admin)).text;
    expect(metrics).toContain('rollback_outcomes_reached_total{outcome="restore_failed"} 1\n');
    expect(metrics).not.toContain('rollback_outcomes_reached_total{outcome="verified"}');
  });

  it('when an outcome read hangs at GitHub, then a new rollback is still dispatched meanwhile (reads have their own slot)', async () => {
    const harness = await start({ GITHUB_MIN_INTERVAL_MS: '1000' });
    actions.plan.push('none', 'none');
    await rollback(harness);
    await harness.github.waitFor((g) => g.accepted().length === 1);
    const release = harness.github.holdReads();
    try {
      await harness.github.waitFor((g) => g.heldReads > 0);
      const res = await request(harness.app).post('/v1/webhooks/argocd').set(auth).send({ client_payload: { app: 'other-app', failed_revision: repo.commits.failed, healthy_revision: repo.commits.healthy } });
      expect(res.status).toBe(202);
      await harness.github.waitFor((g) => g.accepted().length === 2);
      expect(harness.github.heldReads).toBeGreaterThan(0);
    } finally {
      release();
    }
  });

  it('when GitHub answers an outcome read with a secondary rate limit, then the token\'s dispatches wait for it too', async () => {
    const harness = await start();
    actions.plan.push('none', 'none');
    harness.github.scriptReads({ status: 403, headers: { 'retry-after': '60' } });
    await rollback(harness);
    await harness.github.waitFor((g) => g.reads.some((r) => r.status === 403));
    const res = await request(harness.app).post('/v1/webhooks/argocd').set(auth).send({ client_payload: { app: 'other-app', failed_revision: repo.commits.failed, healthy_revision: repo.commits.healthy } });
    expect(res.status).toBe(202);
    // Not sent inside GitHub's minute: the event waits, its delivery due no earlier than the limit's end.
    const limitedAt = harness.github.reads.find((r) => r.status === 403)!.receivedAt;
    await harness.waitForLog((e) => e.msg === 'queued' && e.app === 'other-app', 'the second rollback queued');
    const slots = await harness.store.db.selectFrom('dispatch_slots').select(['token_key', 'due_at']).execute();
    expect(slots.map((s) => [s.token_key.endsWith('#reads') ? 'reads' : 'dispatches', Number(s.due_at) >= limitedAt + 59_000]).sort()).toEqual([
      ['dispatches', true],
      ['reads', true],
    ]);
    expect(harness.github.accepted()).toHaveLength(1);
  });

  it('when the failed job\'s log address trickles forever, then the read ends at GITHUB_LOG_TIMEOUT_MS and decides with what was read, and new rollbacks are dispatched meanwhile', async () => {
    const harness = await start({ GITHUB_LOG_TIMEOUT_MS: '3000' });
    harness.github.logTrickleMs = 200;
    actions.failLog = 'Run deploy/github/restore-values.sh\nchecking out the healthy revision';
    actions.plan.push('fail', 'none', 'none', 'none');
    const id = await rollback(harness);
    const blobReads = () => harness.github.reads.filter((r) => r.path.startsWith('/_blob/'));
    await harness.github.waitFor(() => blobReads().length === 1);
    // While the log trickles: three more apps degrade, and each is dispatched without waiting on it.
    for (const app of ['other-1', 'other-2', 'other-3']) {
      const res = await request(harness.app).post('/v1/webhooks/argocd').set(auth).send({ client_payload: { app, failed_revision: repo.commits.failed, healthy_revision: repo.commits.healthy } });
      expect(res.status).toBe(202);
    }
    await harness.github.waitFor((g) => g.accepted().length === 4);
    const logRead = blobReads()[0]!;
    expect(logRead.endedAt ?? Infinity).toBeGreaterThan(Math.max(...harness.github.accepted().map((d) => d.receivedAt)));
    await waitForOutcome(harness, id, 'restore_failed');
    expect((await view(harness, id)).outcome_reason).toMatch(/failed at step "Restore what the app renders from as of the healthy revision" \(log not readable in 3 s\)$/);
    expect(blobReads()[0]!.endedAt).toBeDefined();
  });

  it('when the failed job\'s log is over 4 MB, then its first 4 MB are read and the line that names the cause is kept', async () => {
    const harness = await start();
    actions.failLog = ['bash: deploy/github/restore-values.sh: No such file or directory', ...Array.from({ length: 100_000 }, (_, i) => `progress line ${i} ${'.'.repeat(40)}`), '##[error]Process completed with exit code 127.'].join('\n');
    expect(actions.failLog.length).toBeGreaterThan(5 * 1024 * 1024);
    actions.plan.push('fail');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restore_failed');
    expect((await view(harness, id)).outcome_reason).toMatch(/: bash: deploy\/github\/restore-values\.sh: No such file or directory — the restore script is missing from the GitOps repository/);
  });

  it('when a rollback needs a person, then the overview and /v1/status say so until someone acknowledges it (who and why recorded); a verified one cannot be acknowledged', async () => {
    const harness = await start();
    actions.plan.push('fail');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restore_failed');
    const agent = await signIn(harness, 'Ana Ops');
    const banner = (html: string) => /<div class="banner bad" role="alert"><strong>(\d+ rollbacks? needs? a person)<\/strong>/.exec(html)?.[1];
    expect(banner((await agent.get('/ui/')).text)).toBe('1 rollback needs a person');
    const status = async () => (await request(harness.app).get('/v1/status').set(admin)).body.needs_a_person as { count: number; newest: Array<{ id: string; outcome: string; reason: string }> };
    expect(await status()).toEqual({ count: 1, newest: [expect.objectContaining({ id, outcome: 'restore_failed', reason: expect.stringMatching(/the restore script is missing/) })] });
    // The rollback page says why, links the failed step, and offers the acknowledgement.
    const page = (await agent.get(`/ui/events/${id}`)).text;
    expect(page).toContain('<h2>Needs a person</h2>');
    expect(page).toMatch(/href="[^"]+#step:3:1"[^>]*>Open where it failed</);
    expect(page).toContain(`action="/ui/events/${id}/acknowledge"`);

    // Without a reason: refused, nothing recorded.
    const bare = await request(harness.app).post(`/v1/events/${id}/acknowledge`).set(admin).send({ by: 'ana@example.com' });
    expect(bare.status).toBe(422);
    expect(bare.body.error.message).toMatch(/^reason: required: why/);
    expect((await status()).count).toBe(1);
    // From the status page: a confirmation first, then recorded with the signed-in name.
    const csrf = csrfOf(page);
    const asked = await agent.post(`/ui/events/${id}/acknowledge`).type('form').send({ _csrf: csrf, reason: 'restoring by hand; script added in gitops#12' });
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('Acknowledge rollback');
    const done = await agent.post(`/ui/events/${id}/acknowledge`).type('form').send({ _csrf: csrf, reason: 'restoring by hand; script added in gitops#12', confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(await status()).toEqual({ count: 0, newest: [] });
    expect(banner((await agent.get('/ui/')).text)).toBeUndefined();
    expect((await request(harness.app).get(`/v1/events/${id}`).set(admin)).body.acknowledged).toEqual({ by: 'Ana Ops', reason: 'restoring by hand; script added in gitops#12', at: expect.any(String), via: 'ui' });
    expect((await agent.get(`/ui/events/${id}`)).text).toContain('Acknowledged by <strong>Ana Ops</strong>');
    expect((await agent.get('/ui/apps/podinfo-prod')).text).toContain('acknowledge by <strong>Ana Ops</strong> (status page): restoring by hand; script added in gitops#12');

    // Replayed and failed again: the older acknowledgement no longer counts; the banner is back.
    actions.plan.push('fail');
    expect((await request(harness.app).post(`/v1/events/${id}/replay`).set(admin)).status).toBe(202);
    await harness.github.waitFor((g) => g.accepted().length === 2);
    await waitForHistory(harness, id, (history) => history.filter((e) => e.outcome === 'restore_failed').length === 2);
    expect((await status()).count).toBe(1);
    // The JSON API records who the caller says.
    const byApi = await request(harness.app).post(`/v1/events/${id}/acknowledge`).set(admin).send({ by: 'ben@example.com', reason: 'on it' });
    expect(byApi.status).toBe(200);
    expect(byApi.body).toEqual({ id, app: 'podinfo-prod', outcome: 'restore_failed', acknowledged: { by: 'ben@example.com', reason: 'on it', at: expect.any(String), via: 'api' } });
    expect((await status()).count).toBe(0);
    // An outcome that needs nobody is refused.
    expect((await request(harness.app).post(`/v1/events/${id}/replay`).set(admin)).status).toBe(202);
    await waitForHistory(harness, id, (history) => history.at(-1)?.outcome === 'restored');
    const refused = await request(harness.app).post(`/v1/events/${id}/acknowledge`).set(admin).send({ by: 'ben', reason: 'seen' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/outcome is restored; only a rollback that ended restore_failed, run_missing, unverified is acknowledged/) });
    expect((await request(harness.app).post('/v1/events/01a2290a-6d1c-7b3e-9f00-4c8e2b1d0a99/acknowledge').set(admin).send({ by: 'ben', reason: 'seen' })).status).toBe(404);
  });

  it('when an acknowledged dead end is replayed, then its outcome starts afresh (no stale dead end), and when it fails again the page and the API ask for a new acknowledgement', async () => {
    const harness = await start();
    const status = async () => ((await request(harness.app).get('/v1/status').set(admin)).body.needs_a_person as { count: number }).count;
    actions.plan.push('fail');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restore_failed');
    expect((await request(harness.app).post(`/v1/events/${id}/acknowledge`).set(admin).send({ by: 'ana', reason: 'fixing the script' })).status).toBe(200);
    expect(await status()).toBe(0);
    const agent = await signIn(harness, 'Ana Ops');
    expect((await agent.get(`/ui/events/${id}`)).text).toContain('Acknowledged by <strong>ana</strong>');

    // Replayed: the event's outcome is not followed yet, its counts fresh; nothing failed, nobody is called.
    actions.plan.push('fail');
    harness.github.runListDelayMs = 1000;
    const replayed = await request(harness.app).post(`/v1/events/${id}/replay`).set(admin);
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ status: 'queued', outcome: null, outcome_reason: null, run_url: null, redispatches: 0 });
    expect(await status()).toBe(0);
    const listed = (await request(harness.app).get(`/v1/events?outcome=restore_failed`).set(admin)).body as { events: unknown[] };
    expect(listed.events).toEqual([]);

    // It failed again: a new dead end, unacknowledged on the page and in the API; the earlier one stays in the history.
    await waitForHistory(harness, id, (history) => history.filter((e) => e.outcome === 'restore_failed').length === 2);
    expect(await status()).toBe(1);
    const event = (await request(harness.app).get(`/v1/events/${id}`).set(admin)).body as { acknowledged: unknown; outcome: string; outcome_history: Array<{ outcome: string }> };
    expect(event).toMatchObject({ outcome: 'restore_failed', acknowledged: null });
    expect(event.outcome_history.map((e) => e.outcome).filter((o) => o !== 'restoring')).toEqual(['awaiting_run', 'restore_failed', 'awaiting_run', 'restore_failed']);
    const page = (await agent.get(`/ui/events/${id}`)).text;
    expect(page).toContain(`action="/ui/events/${id}/acknowledge"`);
    expect(page).not.toContain('Acknowledged by');
    // The earlier acknowledgement is still in the app's timeline.
    expect((await agent.get('/ui/apps/podinfo-prod')).text).toContain('fixing the script');
  });

  it("when a replay's run is listed late, then its follow-up waits for that run and never takes the earlier dispatch's failed run", async () => {
    const harness = await start();
    actions.plan.push('fail');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restore_failed');
    // GitHub lists the replay's run only 1.5 s after it started (eventually consistent); the failed run of
    // the first dispatch is listed all along and carries the same event id.
    harness.github.runListDelayMs = 1500;
    expect((await request(harness.app).post(`/v1/events/${id}/replay`).set(admin)).status).toBe(202);
    await waitForHistory(harness, id, (history) => history.at(-1)?.outcome === 'restored');
    const history = (await view(harness, id)).outcome_history.map((e) => e.outcome);
    expect(history.slice(history.lastIndexOf('awaiting_run'))).toEqual(['awaiting_run', 'restoring', 'restored']);
    // Two dispatches, each with its own dispatch id, each named by its own run.
    const sent = harness.github.accepted().map((d) => d.body?.client_payload as Record<string, string>);
    expect(sent.map((p) => p.event_id)).toEqual([id, id]);
    expect(new Set(sent.map((p) => p.dispatch_id)).size).toBe(2);
    expect(harness.github.runs.map((r) => r.display_title)).toEqual(sent.map((p) => `Roll back podinfo-prod (event ${id}, dispatch ${p.dispatch_id})`));
    // The event shows the body its current dispatch sent.
    expect((await request(harness.app).get(`/v1/events/${id}`).set(admin)).body.dispatch.client_payload.dispatch_id).toBe(sent[1]!.dispatch_id);
  });

  it('when a path does not exist at the healthy revision, then the real script fails and restore_failed names that cause and its remedy', async () => {
    const routes = join(dir, 'routes-gone.yaml');
    writeFileSync(routes, 'routes:\n  - app: podinfo-prod\n    values_paths: [charts/podinfo/values-gone.yaml]\n');
    const harness = await start({ ROUTES_FILE: routes });
    const res = await request(harness.app)
      .post('/v1/webhooks/argocd')
      .set(auth)
      .send({ client_payload: { app: 'podinfo-prod', failed_revision: repo.commits.failed, healthy_revision: repo.commits.healthy } });
    expect(res.status).toBe(202);
    await waitForOutcome(harness, res.body.id as string, 'restore_failed');
    expect((await view(harness, res.body.id as string)).outcome_reason).toMatch(
      /failed at step "Restore what the app renders from as of the healthy revision": restore-values: charts\/podinfo\/values-gone\.yaml did not exist at the healthy revision [0-9a-f]{12}; refusing to guess what to restore — a path to restore does not exist at the healthy revision; check what is restored/,
    );
  });

  it('when no run appears and the repository has no rollback workflow, then run_missing names the missing workflow file', async () => {
    const harness = await start({ RUN_LOOKUP_SECONDS: '0.3' }, { githubWorkflows: [{ name: 'ci', path: '.github/workflows/ci.yml', state: 'active' }] });
    actions.plan.push('none');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'run_missing');
    expect((await view(harness, id)).outcome_reason).toMatch(/: the repository has no gitops-rollback workflow \(its workflows: \.github\/workflows\/ci\.yml\) — a missing workflow file; copy deploy\/github\/rollback\.yml to \.github\/workflows\/rollback\.yml/);
  });

  it('when no run appears within RUN_LOOKUP_SECONDS, then run_missing says what to check', async () => {
    const harness = await start({ RUN_LOOKUP_SECONDS: '0.3' });
    actions.plan.push('none');
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'run_missing');
    expect((await view(harness, id)).outcome_reason).toMatch(/^no workflow run titled with this event id within 0 s of delivery: is the workflow on the default branch, listening to repository_dispatch type argo-degraded/);
    await receiver.waitFor((r) => r.messages.length === 2);
    expect(kinds()[1]).toBe('rollback needs a person: no workflow run');
  });

  it('when no Healthy report comes within VERIFY_TIMEOUT_SECONDS, then unverified', async () => {
    // Long enough for the real workflow script to finish first on a loaded machine (1 s was not, once,
    // while a benchmark ran beside the suite: the run was still going, and restored never came).
    const harness = await start({ VERIFY_TIMEOUT_SECONDS: '4' });
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'unverified');
    expect((await view(harness, id)).outcome_history.map((e) => e.outcome)).toEqual(['awaiting_run', 'restoring', 'restored', 'unverified']);
    await receiver.waitFor((r) => r.messages.length === 2);
    expect(kinds()[1]).toBe('rollback needs a person: not verified healthy');
  });

  it('when the notification endpoint is down for a while, then every message arrives once it is back, each once, and the rollback did not wait', async () => {
    const harness = await start();
    receiver.down = true;
    const id = await rollback(harness);
    await waitForOutcome(harness, id, 'restored');
    await healthy(harness, repo.mainHead());
    await waitForOutcome(harness, id, 'verified');
    await receiver.waitFor((r) => r.refused >= 2);
    expect(receiver.messages).toEqual([]);
    receiver.down = false;
    await receiver.waitFor((r) => r.messages.length === 2);
    expect(kinds()).toEqual(['rollback dispatched to GitHub', 'rollback verified: Healthy again']);
    expect(harness.logs.entries).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/^notification not sent: the receiver answered 503; trying again/) }));
  });

  it('when GitHub rate-limits a read, then the follower waits as told, the pause holds for dispatches too, and the rollback still gets there', async () => {
    const harness = await start();
    harness.github.scriptReads({ status: 429, headers: { 'retry-after': '1' }, message: 'You have exceeded a secondary rate limit.' });
    const id = await rollback(harness);
    await harness.github.waitFor((g) => g.reads.length >= 1);
    const limitedAt = harness.github.reads[0]!.receivedAt;
    // A second rollback arrives during the pause: its dispatch waits for the token too.
    const other = await request(harness.app)
      .post('/v1/webhooks/argocd')
      .set(auth)
      .send({ client_payload: { app: 'podinfo-prod', failed_revision: 'e'.repeat(40), healthy_revision: repo.commits.healthy } });
    expect(other.status).toBe(202);
    await waitForOutcome(harness, id, 'restored');
    await harness.github.waitFor((g) => g.received.length >= 2);
    expect(harness.github.reads[0]!.status).toBe(429);
    expect(harness.github.reads[1]!.receivedAt - limitedAt).toBeGreaterThanOrEqual(950);
    expect(harness.github.received[1]!.receivedAt - limitedAt).toBeGreaterThanOrEqual(950);
  });

  it('when GitHub refuses the dispatch for good, then one delivery_failed notification names the remedy', async () => {
    const harness = await start();
    harness.github.script({ status: 401 });
    const id = await rollback(harness);
    await harness.waitForStatus(id, 'failed');
    await receiver.waitFor((r) => r.messages.length === 1);
    expect(receiver.texts()[0]).toMatch(/rollback needs a person: GitHub refused the dispatch .*\nGitHub answered 401: Bad credentials/);
  });

  it('when the loop guard refuses, then one notification, not one per re-send', async () => {
    const harness = await start({ ROLLBACK_MAX_PER_WINDOW: '1' });
    await rollback(harness);
    const again = () =>
      request(harness.app)
        .post('/v1/webhooks/argocd')
        .set(auth)
        .send({ client_payload: { app: 'podinfo-prod', failed_revision: 'e'.repeat(40), healthy_revision: repo.commits.healthy } });
    expect([(await again()).status, (await again()).status, (await again()).status]).toEqual([409, 409, 409]);
    await receiver.waitFor((r) => r.messages.some((m) => String(m.text).includes('loop guard')));
    await receiver.waitFor((r) => r.messages.length >= 2);
    expect(receiver.texts().filter((t) => t.includes('refused by the loop guard'))).toHaveLength(1);
  });

  it('when a revision Healthy for longer than the grace goes Degraded, then no rollback: 200, recorded with its reason, visible, notified once', async () => {
    const clock = createManualClock();
    const harness = await start({}, { clock });
    const revision = repo.commits.failed;
    expect((await healthy(harness, revision)).status).toBe(200);
    clock.advance(31 * 60_000);
    const degraded = () => request(harness.app).post('/v1/webhooks/argocd').set(auth).send({ app: 'podinfo-prod', status: 'Degraded', revision });
    const first = await degraded();
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ status: 'not_a_deploy', app: 'podinfo-prod', revision, message: expect.stringMatching(/was reported Healthy since .* \(31 min, more than the 1800 s grace\)/) });
    expect((await degraded()).status).toBe(200);
    expect(harness.github.received).toEqual([]);
    const app = (await request(harness.app).get('/v1/apps/podinfo-prod').set(admin)).body as { degraded_without_rollback: unknown[]; known_failed: unknown[] };
    expect(app.degraded_without_rollback).toEqual([{ revision, reported_at: expect.any(String), reason: first.body.message }]);
    await receiver.waitFor((r) => r.messages.length === 1);
    expect(receiver.texts()[0]).toMatch(/^podinfo-prod: Degraded, not rolled back: the revision was long healthy/);
  });
});
