import request from 'supertest';
import type { FakeRun } from '../support/fake-github';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, seedBody, type Harness } from '../support/harness';
import { until } from '../support/until';

const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * Replay is a new delivery and, once delivered, a new follow-up; the earlier ones stay in the history and
 * never act again. Driven through the real workers, with the fake GitHub holding the follower mid-look
 * so the race is reproduced on purpose, not by luck.
 */
describe.each(DIALECTS)('replay on %s', (_dialect, createDatabase) => {
  let h: Harness;
  /** Every accepted dispatch starts a run titled with its event id, as the shipped workflow's run-name does. */
  const runs: FakeRun[] = [];

  beforeEach(async () => {
    h = await createHarness({ database: await createDatabase(), env: { OUTCOME_POLL_MS: '20', OUTCOME_POLL_MAX_MS: '40', RESTORE_MAX_REDISPATCH: '2' } });
    runs.length = 0;
    h.github.onAccepted = (dispatch) => runs.push(h.github.addRun(`gitops rollback ${String(dispatch.body?.client_payload?.event_id)}`, 'in_progress'));
  });
  afterEach(async () => {
    await h.close();
  });

  const view = async (id: string) => (await request(h.app).get(`/v1/events/${id}`).set(admin)).body as { status: string; attempts: number; redispatches: number; outcome: string; outcome_history: Array<{ reason: string }> };
  const follows = (id: string) => h.store.db.selectFrom('outcome_follows').selectAll().where('event_id', '=', id).orderBy('seq').execute();
  const deliveries = (id: string) => h.store.db.selectFrom('deliveries').selectAll().where('event_id', '=', id).orderBy('seq').execute();

  it('when an operator replays a rollback while its follower is deciding to re-dispatch a cancelled run, then it is dispatched once for the replay, never twice', async () => {
    const release = h.github.holdReads();
    const id = (await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody())).body.id as string;
    await h.waitForStatus(id, 'delivered');
    // The follower has leased the follow-up and is waiting for GitHub's list of runs.
    await h.github.waitFor((g) => g.heldReads > 0);
    h.github.updateRun(runs[0]!, 'completed', 'cancelled');

    const replay = await request(h.app).post(`/v1/events/${id}/replay`).set(admin).send({ reason: 'try again' });
    expect(replay.status).toBe(202);
    release();

    // The look that was under way sees the cancelled run and would re-dispatch: it finds the replay's
    // newer delivery and ends as superseded instead.
    await until(async () => (await follows(id))[0]?.closed_as === 'superseded', 'the first follow-up superseded');
    await h.github.waitFor((g) => g.accepted().length === 2);
    // The replay's own follow-up has looked at GitHub at least once (it found the replay's run).
    await until(async () => (await follows(id)).length === 2 && (await follows(id))[1]!.outcome === 'restoring', "the replay's follow-up at restoring");

    expect(h.github.accepted().map((d) => d.body?.client_payload?.event_id)).toEqual([id, id]);
    expect((await deliveries(id)).map((d) => [d.seq, d.state, d.continues_follow_id])).toEqual([
      [1, 'delivered', null],
      [2, 'delivered', null],
    ]);
    const [first, second] = await follows(id);
    expect(first).toMatchObject({ closed_as: 'superseded', due_at: null, lease_owner: null, redispatches: 0 });
    expect(second).toMatchObject({ delivery_id: (await deliveries(id))[1]!.id, redispatches: 0, cancelled_runs: '' });
    expect((await view(id)).outcome_history.map((e) => e.reason)).not.toContainEqual(expect.stringMatching(/dispatched again \(/));
    expect(h.logs.entries).toContainEqual(expect.objectContaining({ component: 'outcomes', eventId: id, msg: expect.stringMatching(/a replay started a newer delivery/) }));
  });

  it('when a rollback that was re-dispatched is replayed, then the new follow-up starts with fresh re-dispatch and cancelled-run counts, and the old ones stay in the history', async () => {
    const id = (await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody())).body.id as string;
    await h.github.waitFor((g) => g.accepted().length === 1);
    h.github.updateRun(runs[0]!, 'completed', 'cancelled');
    await h.github.waitFor((g) => g.accepted().length === 2);
    await until(async () => (await view(id)).redispatches === 1 && (await follows(id)).length === 2, 'the re-dispatch followed');
    h.github.updateRun(runs[1]!, 'completed', 'failure');
    await until(async () => (await view(id)).outcome === 'restore_failed', 'restore_failed');

    expect((await request(h.app).post(`/v1/events/${id}/replay`).set(admin).send({ reason: 'fixed the workflow' })).status).toBe(202);
    await h.github.waitFor((g) => g.accepted().length === 3);
    await until(async () => (await follows(id)).length === 3 && (await follows(id))[2]!.outcome === 'restoring', "the replay's follow-up at restoring");

    const event = await view(id);
    expect(event).toMatchObject({ status: 'delivered', attempts: 1, redispatches: 0, outcome: 'restoring' });
    const all = await follows(id);
    expect(all.map((f) => [f.outcome, f.redispatches, f.cancelled_runs, f.closed_as])).toEqual([
      ['restoring', 1, String(runs[0]!.id), 'redispatched'],
      ['restore_failed', 1, String(runs[0]!.id), null],
      ['restoring', 0, '', null],
    ]);
    expect((await deliveries(id)).map((d) => [d.seq, d.attempts, d.continues_follow_id])).toEqual([
      [1, 1, null],
      [2, 1, all[0]!.id],
      [3, 1, null],
    ]);
    expect(event.outcome_history.map((e) => e.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/dispatched again \(1 of 2\)/), expect.stringMatching(/^dispatched again by a replay \(was restore_failed\)/)]),
    );
  });

  it('when an acknowledged dead end is replayed, then its outcome starts afresh at once, and a new dead end needs a new acknowledgement', async () => {
    const needsAPerson = async () => ((await request(h.app).get('/v1/status').set(admin)).body.needs_a_person as { count: number }).count;
    const id = (await request(h.app).post('/v1/webhooks/argocd').set(auth).send(seedBody())).body.id as string;
    await h.github.waitFor((g) => g.accepted().length === 1);
    h.github.updateRun(runs[0]!, 'completed', 'failure');
    await until(async () => (await view(id)).outcome === 'restore_failed', 'restore_failed');
    expect((await request(h.app).post(`/v1/events/${id}/acknowledge`).set(admin).send({ by: 'ana', reason: 'on it' })).status).toBe(200);
    expect(await needsAPerson()).toBe(0);

    // The replay's own answer and the store, before anything else happened: no outcome, fresh counts.
    const release = h.github.holdReads();
    const replayed = await request(h.app).post(`/v1/events/${id}/replay`).set(admin);
    expect(replayed.body).toMatchObject({ outcome: null, redispatches: 0, run_url: null });
    expect(await needsAPerson()).toBe(0);
    release();
    await h.github.waitFor((g) => g.accepted().length === 2);
    await until(async () => (await view(id)).outcome === 'restoring', "the replay's run followed");
    h.github.updateRun(runs[1]!, 'completed', 'failure');
    await until(async () => (await view(id)).outcome === 'restore_failed', 'restore_failed again');
    expect(await needsAPerson()).toBe(1);
    expect((await request(h.app).get(`/v1/events/${id}`).set(admin)).body.acknowledged).toBeNull();
  });
});
