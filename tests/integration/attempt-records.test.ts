import { sql } from 'kysely';
import request from 'supertest';
import { UNCONFIRMED_ATTEMPT } from '../../src/domain/rollback-event';
import { findEvent } from '../../src/store/events.repository';
import { DIALECTS } from '../support/dialects';
import { ADMIN_TOKEN, WEBHOOK_TOKEN, createHarness, seedBody, type Harness } from '../support/harness';

/**
 * Every request sent to GitHub is in the history, even one whose result could not be written: the
 * attempt is recorded before it is sent and its result after. Here GitHub accepts the dispatch (204) and
 * the store refuses the write that records it (as a full disk would); the lease runs out, the dispatch is
 * sent again and recorded. The history shows both: the first as `unconfirmed` (it may have reached
 * GitHub), the second delivered.
 */
describe.each(DIALECTS)('attempts whose result could not be recorded, on %s', (dialect, createDatabase) => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('when GitHub accepted a dispatch but recording its result failed, then the history shows that attempt as unconfirmed, then the one sent again', async () => {
    const database = await createDatabase();
    h = await createHarness({ database, env: { DELIVERY_LEASE_MS: '1000', GITHUB_TIMEOUT_MS: '500' } });
    // The write that would mark the delivery delivered is refused, once GitHub has answered.
    if (dialect === 'sqlite') await sql`create trigger refuse_delivered before update on deliveries when new.state = 'delivered' begin select raise(abort, 'refused by the test, as a full disk would'); end`.execute(h.store.db);
    else await sql`alter table deliveries add constraint refused_by_test check (state <> 'delivered')`.execute(h.store.db);
    const res = await request(h.app).post('/v1/webhooks/argocd').set({ Authorization: `Bearer ${WEBHOOK_TOKEN}` }).send(seedBody());
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    await h.github.waitFor((g) => g.accepted().length === 1);
    await h.waitForLog((e) => e.component === 'delivery' && e.level === 50 && /refused|check constraint/.test(String((e.err as { message?: string } | undefined)?.message ?? e.msg)), 'the failed record of the result');
    // (The lease may already have run out and the dispatch gone again, refused again: each one is there.)
    expect((await findEvent(h.store.db, id))!.attempts[0]).toMatchObject({ attempt: 1, outcome: 'unconfirmed', statusCode: null, error: UNCONFIRMED_ATTEMPT });

    if (dialect === 'sqlite') await sql`drop trigger refuse_delivered`.execute(h.store.db);
    else await sql`alter table deliveries drop constraint refused_by_test`.execute(h.store.db);
    await h.waitForStatus(id, 'delivered');
    // One attempt in the history for every dispatch GitHub accepted: all unconfirmed but the last.
    const sent = h.github.accepted().length;
    expect(sent).toBeGreaterThanOrEqual(2);
    const expected = Array.from({ length: sent }, (_, i) => (i < sent - 1 ? [i + 1, 'unconfirmed', null] : [i + 1, 'delivered', 204]));
    expect((await findEvent(h.store.db, id))!.attempts.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual(expected);
    // The API says it too.
    const view = await request(h.app).get(`/v1/events/${id}`).set({ Authorization: `Bearer ${ADMIN_TOKEN}` });
    const listed = (view.body as { delivery_attempts: Array<{ outcome: string; error: string | null }> }).delivery_attempts;
    expect(listed.map((a) => [a.outcome, a.error])).toEqual(expected.map(([, outcome]) => [outcome, outcome === 'unconfirmed' ? UNCONFIRMED_ATTEMPT : null]));
  }, 30_000);
});
