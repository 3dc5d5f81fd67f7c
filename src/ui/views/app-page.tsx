import { NEEDS_A_PERSON } from '../../domain/rollback-event';
import type { RevisionReport } from '../../domain/rollback-policy';
import type { Session } from '../session';
import type { AppData, TimelineEntry } from '../status-page-data';
import { Layout } from './layout';
import { Badge, Csrf, Pager, Rev, Section, Table, When, appHref, eventHref } from './parts';

const REPORT_SOURCES: Record<RevisionReport['source'], string> = {
  health_report: 'health report',
  rollback_request: 'rollback request',
  refusal: 'Degraded, no rollback',
};

function TimelineRow({ entry, now }: { entry: TimelineEntry; now: number }) {
  switch (entry.kind) {
    case 'report':
      return (
        <tr>
          <td><When at={entry.at} now={now} /></td>
          <td>{REPORT_SOURCES[entry.report.source]}</td>
          <td>
            <Badge value={entry.report.status} /> <Rev revision={entry.report.revision} />
            {entry.report.note && <div class="note">{entry.report.note}</div>}
          </td>
        </tr>
      );
    case 'rollback':
      return (
        <tr>
          <td><When at={entry.at} now={now} /></td>
          <td>
            <a href={eventHref(entry.event.id)}>rollback</a>
          </td>
          <td>
            <Badge value={entry.event.status} /> {entry.event.outcome && <Badge value={entry.event.outcome} />} <Rev revision={entry.event.failedRevision} /> →{' '}
            <Rev revision={entry.event.healthyRevision} />
            {entry.event.suppressionReason && <div class="note">{entry.event.suppressionReason}</div>}
            {entry.event.outcome && (NEEDS_A_PERSON as readonly string[]).includes(entry.event.outcome) && <div class="note">{entry.event.outcomeReason}</div>}
          </td>
        </tr>
      );
    case 'action':
      return (
        <tr>
          <td><When at={entry.at} now={now} /></td>
          <td>{entry.action.action} by hand</td>
          <td>
            {entry.action.action} by <strong>{entry.action.by}</strong> ({entry.action.via === 'ui' ? 'status page' : 'API'})
            {entry.action.reason && <>: {entry.action.reason}</>}
          </td>
        </tr>
      );
  }
}

export function AppPage({ data, session }: { data: AppData; session: Session }) {
  const { route, now } = data;
  const base = appHref(data.app);
  return (
    <Layout title={data.app} session={session}>
      <p>
        <a href="/ui/">← all apps</a>
      </p>
      <h1>{data.app}</h1>
      {data.paused ? (
        <div class="banner warn">
          <strong>Paused</strong> by {data.paused.by} <When at={data.paused.since} now={now} />: {data.paused.reason}. Its rollbacks are recorded and refused.
          <form method="post" action={`${base}/resume`} class="inline">
            <Csrf token={session.csrf} />
            <label>
              Why resume <input name="reason" required maxLength={500} />
            </label>
            <button type="submit">Resume…</button>
          </form>
        </div>
      ) : (
        <form method="post" action={`${base}/pause`} class="inline">
          <Csrf token={session.csrf} />
          <label>
            Why pause <input name="reason" required maxLength={500} />
          </label>
          <button type="submit">Pause rollbacks…</button>
        </form>
      )}
      <Section title="Route">
        <dl>
          <dt>Repository</dt>
          <dd>
            {`${route.owner}/${route.repo}`}
            {route.valuesPathsFrom !== 'route' && <span class="note"> unless the Application’s sources name another</span>}
          </dd>
          <dt>Event type</dt>
          <dd>{route.eventType}</dd>
          <dt>What a rollback restores</dt>
          <dd>
            {route.valuesPathsFrom === 'route'
              ? `the route’s values_paths: ${route.valuesPaths!.join(', ')}`
              : `worked out from the Application’s sources (each rollback shows its paths)${route.valuesPaths ? `; VALUES_PATHS (${route.valuesPaths.join(', ')}) for notifications without sources` : ''}`}
          </dd>
          <dt>Loop guard</dt>
          <dd>
            at most {route.maxPerWindow} rollbacks in {route.windowMinutes} min
          </dd>
          <dt>Dry run</dt>
          <dd>{route.dryRun ? 'yes: recorded, never sent' : 'no'}</dd>
          <dt>Matched by</dt>
          <dd>{route.matched ?? 'the environment defaults'}</dd>
        </dl>
      </Section>
      <Section title="Healthy revisions (ledger)">
        {data.ledger.length === 0 ? (
          <p class="muted">none yet</p>
        ) : (
          <Table columns={['Revision', 'Healthy', 'Since failed?']}>
            {data.ledger.slice(0, 20).map(({ report, knownFailed }) => (
              <tr key={report.id}>
                <td><Rev revision={report.revision} /></td>
                <td><When at={report.reportedAt} now={now} /></td>
                <td>{knownFailed ? <Badge value="failed" label="since failed" /> : <span class="muted">no</span>}</td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
      <Section title="Known failed revisions">
        {data.knownFailed.length === 0 ? (
          <p class="muted">none</p>
        ) : (
          <ul>
            {data.knownFailed.slice(0, 20).map((report) => (
              <li key={report.id}>
                <Rev revision={report.revision} /> <When at={report.reportedAt} now={now} />
              </li>
            ))}
          </ul>
        )}
      </Section>
      {data.refusedNotifications.length > 0 && (
        <Section title="Notifications the receiver refused">
          <Table columns={['Written', 'Message', 'Answer']}>
            {data.refusedNotifications.map((n) => (
              <tr key={n.id}>
                <td><When at={n.createdAt} now={now} /></td>
                <td>{n.eventId ? <a href={eventHref(n.eventId)}>{n.kind}</a> : n.kind}</td>
                <td>{n.error}</td>
              </tr>
            ))}
          </Table>
        </Section>
      )}
      <Section title="Timeline">
        <Table columns={['When', 'What', 'Detail']}>
          {data.timeline.map((entry) => (
            <TimelineRow key={entry.key} entry={entry} now={now} />
          ))}
        </Table>
        <Pager page={data.page} pages={data.pages} href={(p) => `${base}?page=${p}`} />
      </Section>
    </Layout>
  );
}
