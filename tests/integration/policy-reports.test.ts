import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { planRollback, type RollbackFacts } from '../../src/domain/rollback-plan';
import { openStore, type Store } from '../../src/store/database';
import { REPORTS_CONSIDERED, insertReport, listPolicyReports, listReports } from '../../src/store/reports.repository';
import { DIALECTS, type TestDatabase } from '../support/dialects';

// A few commits, plus abbreviations of two of them: the mixed-length case must fall back to every report.
const FULL = ['a41d7c0e5f9b2d8c6e3a1f7b4d0c9e2a8b6f5d13', '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2', '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51', 'c0ffee0000000000000000000000000000000042'];
const SHORT = [FULL[0]!.slice(0, 7), FULL[2]!.slice(0, 12)];
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);

describe.each(DIALECTS)('listPolicyReports on %s', (_dialect, createDatabase) => {
  let database: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    database = await createDatabase();
    store = openStore(database.url);
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  const reportArb = (pool: string[]) =>
    fc.record({ revision: fc.constantFrom(...pool), status: fc.constantFrom('Healthy', 'Degraded', 'Progressing'), minute: fc.integer({ min: 0, max: 30 }) });
  const caseArb = fc.oneof(
    // The rule: full ids only.
    fc.record({ reports: fc.array(reportArb(FULL), { maxLength: 25 }), failed: fc.constantFrom(...FULL), target: fc.option(fc.constantFrom(...FULL), { nil: undefined }), history: fc.array(fc.constantFrom(...FULL), { maxLength: 4 }) }),
    // Abbreviated ids among the reports or the request.
    fc.record({
      reports: fc.array(reportArb([...FULL, ...SHORT]), { maxLength: 25 }),
      failed: fc.constantFrom(...FULL, ...SHORT),
      target: fc.option(fc.constantFrom(...FULL, ...SHORT), { nil: undefined }),
      history: fc.array(fc.constantFrom(...FULL), { maxLength: 4 }),
    }),
  );

  let appSeq = 0;
  it('when the policy reads the revisions’ summaries, then every plan is the one it makes from every report (property)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const app = `app-${++appSeq}`;
        for (const r of c.reports) {
          await insertReport(store.db, { id: uuidv7(), app, revision: r.revision, status: r.status, source: 'health_report', eventId: null }, T0 + r.minute * 60_000);
        }
        const target = c.target !== undefined && !c.target.startsWith(c.failed) && !c.failed.startsWith(c.target) ? c.target : undefined;
        const history = c.history.map((revision, i) => ({ id: i + 1, revision }));
        const candidates = [c.failed, ...(target === undefined ? [] : [target]), ...c.history];
        const facts = (reports: RollbackFacts['reports']): RollbackFacts => ({
          failedRevision: c.failed,
          requestedTarget: target,
          history,
          reports,
          recentRollbacks: 0,
          maxPerWindow: 3,
          windowMinutes: 60,
          dryRun: false,
          shape: target === undefined ? 'C' : 'A',
          healthyGraceMs: 10 * 60_000,
          now: T0 + 40 * 60_000,
        });
        const whole = await listReports(store.db, app, 1000);
        const relevant = await listPolicyReports(store.db, app, candidates);
        expect(relevant.length).toBeLessThanOrEqual(whole.length);
        expect(planRollback(facts(relevant))).toEqual(planRollback(facts(whole)));
      }),
      { numRuns: 150 },
    );
  });

  it('when ids are all full and other revisions only failed, then their reports are left out', async () => {
    const app = 'app-left-out';
    const [a, b, c, d] = FULL as [string, string, string, string];
    await insertReport(store.db, { id: uuidv7(), app, revision: a, status: 'Healthy', source: 'health_report', eventId: null }, T0);
    for (const [i, revision] of [b, c].entries()) {
      await insertReport(store.db, { id: uuidv7(), app, revision, status: 'Degraded', source: 'health_report', eventId: null }, T0 + (i + 1) * 1000);
    }
    const relevant = await listPolicyReports(store.db, app, [d]);
    expect(relevant.map((r) => [r.revision, r.status])).toEqual([[a, 'Healthy']]);
    // An abbreviated id in the request: every report of the window.
    expect(await listPolicyReports(store.db, app, [d, b.slice(0, 7)])).toHaveLength(3);
  });

  it('when a healthy revision lies behind more reports than are shown, then the policy still weighs it, and only the newest healthy revisions it is given', async () => {
    const app = 'app-long-history';
    const [a, b, c, d] = FULL as [string, string, string, string];
    await insertReport(store.db, { id: uuidv7(), app, revision: a, status: 'Healthy', source: 'health_report', eventId: null }, T0);
    await insertReport(store.db, { id: uuidv7(), app, revision: b, status: 'Healthy', source: 'health_report', eventId: null }, T0 + 1);
    for (let i = 0; i < REPORTS_CONSIDERED; i++) {
      await insertReport(store.db, { id: uuidv7(), app, revision: c, status: i % 2 ? 'Degraded' : 'Progressing', source: 'health_report', eventId: null }, T0 + 2 + i);
    }
    expect((await listReports(store.db, app)).map((r) => r.revision)).not.toContain(a);
    const relevant = await listPolicyReports(store.db, app, [d]);
    expect(relevant.map((r) => [r.revision, r.status])).toEqual([[b, 'Healthy'], [a, 'Healthy']]);
    expect((await listPolicyReports(store.db, app, [d], 1)).map((r) => r.revision)).toEqual([b]);
    // c's summary: its newest report and its two latest Degraded ones, not its 500 reports.
    expect((await listPolicyReports(store.db, app, [c], 0)).map((r) => [r.status, r.reportedAt - T0])).toEqual([['Degraded', 2 + 499], ['Degraded', 2 + 497]]);
  });

  it('when an abbreviated id was ever stored for the app, then the policy reads the app’s newest reports', async () => {
    const app = 'app-abbreviated';
    const [a, b] = FULL as [string, string];
    await insertReport(store.db, { id: uuidv7(), app, revision: a.slice(0, 7), status: 'Healthy', source: 'health_report', eventId: null }, T0);
    await insertReport(store.db, { id: uuidv7(), app, revision: b, status: 'Degraded', source: 'health_report', eventId: null }, T0 + 1);
    await insertReport(store.db, { id: uuidv7(), app, revision: b, status: 'Progressing', source: 'health_report', eventId: null }, T0 + 2);
    expect((await listPolicyReports(store.db, app, [b])).map((r) => r.status)).toEqual(['Progressing', 'Degraded', 'Healthy']);
  });
});
