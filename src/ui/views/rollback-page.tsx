import type { Session } from '../session';
import type { RollbackData } from '../status-page-data';
import { Layout } from './layout';
import { Badge, Csrf, Rev, Section, Table, When, appHref, eventHref } from './parts';

/** Only http(s) links are made clickable; anything else is shown as text. */
const safeUrl = (url: string | null | undefined) => (url && /^https?:\/\//i.test(url) ? url : undefined);

function Link({ url, children }: { url: string | null | undefined; children: string }) {
  const href = safeUrl(url);
  if (!url) return <span class="muted">none</span>;
  return href ? (
    <a href={href} rel="noreferrer">
      {children}
    </a>
  ) : (
    <span>{url}</span>
  );
}

export function RollbackPage({ data, session }: { data: RollbackData; session: Session }) {
  const { event, now } = data;
  return (
    <Layout title={`Rollback of ${event.app}`} session={session}>
      <p>
        <a href={appHref(event.app)}>← {event.app}</a>
      </p>
      <h1>
        Rollback of {event.app} <Badge value={event.status} /> {event.outcome && <Badge value={event.outcome} />}
      </h1>
      <dl>
        <dt>Failed revision</dt>
        <dd><Rev revision={event.failedRevision} /></dd>
        <dt>Target revision</dt>
        <dd>
          <Rev revision={event.healthyRevision} /> {event.targetReason && <span class="note">{event.targetReason}</span>}
        </dd>
        {event.suppressionReason && (
          <>
            <dt>Refused because</dt>
            <dd>{event.suppressionReason}</dd>
          </>
        )}
        <dt>Repository</dt>
        <dd>{`${event.target.owner}/${event.target.repo}`}</dd>
        <dt>Received</dt>
        <dd><When at={event.createdAt} now={now} /></dd>
        <dt>Delivered</dt>
        <dd><When at={event.deliveredAt} now={now} /></dd>
        {event.lastError && (
          <>
            <dt>Last error</dt>
            <dd>{event.lastError}</dd>
          </>
        )}
        <dt>Workflow run</dt>
        <dd><Link url={event.runUrl}>open the run</Link></dd>
        <dt>Restore commit</dt>
        <dd>{event.restoreCommit ? <Link url={event.restoreUrl}>{event.restoreCommit.slice(0, 12)}</Link> : <span class="muted">none</span>}</dd>
        <dt>Pull request</dt>
        <dd><Link url={event.pullRequestUrl}>open the pull request</Link></dd>
        {data.verifiedBy && (
          <>
            <dt>Verified by</dt>
            <dd>
              a Healthy report of <Rev revision={data.verifiedBy.revision} /> <When at={data.verifiedBy.reportedAt} now={now} />
            </dd>
          </>
        )}
      </dl>
      {data.replayable && (
        <form method="post" action={`${eventHref(event.id)}/replay`} class="inline">
          <Csrf token={session.csrf} />
          <label>
            Why replay <input name="reason" required maxLength={500} />
          </label>
          <button type="submit">{data.dryRun ? 'Replay (dry run: recorded, not sent)…' : 'Replay: send it again…'}</button>
        </form>
      )}
      <Section title={data.dryRun || event.status === 'dry_run' ? 'Dispatch body (would be sent)' : 'Dispatch body sent to GitHub'}>
        <pre>{data.dispatch}</pre>
      </Section>
      <Section title="Delivery attempts">
        {data.attempts.length === 0 ? (
          <p class="muted">none yet</p>
        ) : (
          <Table columns={['#', 'When', 'HTTP', 'Result', 'Error', 'Next attempt']}>
            {data.attempts.map((a) => (
              <tr key={a.attempt}>
                <td>{a.attempt}</td>
                <td><When at={a.startedAt} now={now} /></td>
                <td>{a.statusCode ?? 'none'}</td>
                <td><Badge value={a.outcome} /></td>
                <td>{a.error ?? ''}</td>
                <td>{a.nextAttemptAt ? <When at={a.nextAttemptAt} now={now} /> : ''}</td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
      <Section title="Outcome">
        {data.history.length === 0 ? (
          <p class="muted">not followed yet</p>
        ) : (
          <Table columns={['When', 'Outcome', 'Why', 'Link']}>
            {data.history.map((h, i) => (
              <tr key={i}>
                <td><When at={h.at} now={now} /></td>
                <td><Badge value={h.outcome} /></td>
                <td>{h.reason}</td>
                <td><Link url={h.url}>open</Link></td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
    </Layout>
  );
}
