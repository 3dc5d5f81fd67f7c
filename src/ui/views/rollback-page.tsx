import type { Session } from '../session';
import type { RollbackEvent } from '../../domain/rollback-event';
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

const FROM: Record<string, string> = {
  application: 'worked out from the Argo CD Application’s sources',
  route: 'the route’s values_paths (ROUTES_FILE)',
  VALUES_PATHS: 'VALUES_PATHS (the notification named no sources)',
  'workflow default': 'nothing named: the workflow restores its default file',
};

/** What the rollback restores in its repository, path by path and why, and what it leaves out. */
function RestoreSection({ event }: { event: RollbackData['event'] }) {
  const plan = event.restorePlan;
  if (!plan) return null;
  return (
    <Section title="What is restored">
      <p>
        In {`${plan.target.owner}/${plan.target.repo}`} as of <Rev revision={plan.target.healthyRevision} />: {FROM[plan.target.from] ?? plan.target.from}.
      </p>
      {plan.target.paths.length > 0 && (
        <Table columns={['Path', 'Why']}>
          {plan.target.paths.map((p) => (
            <tr key={p.path}>
              <td><code>{p.path}</code></td>
              <td>{p.why}</td>
            </tr>
          ))}
        </Table>
      )}
      {plan.notes.length > 0 && (
        <>
          <p>Not restored:</p>
          <ul>
            {plan.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </>
      )}
      {plan.siblings.length > 0 && (
        <p>
          The same rollback also restores in{' '}
          {plan.siblings.map((s, i) => (
            <span key={s.id}>
              {i > 0 && ', '}
              <a href={eventHref(s.id)}>{s.repository}</a>
            </span>
          ))}
          .
        </p>
      )}
    </Section>
  );
}

/** Why a rollback has no delivery attempt: one that will never have one says so, instead of "none yet". */
export function noAttemptsBecause(event: RollbackEvent): string {
  if (event.status === 'dry_run') return 'none: a dry run records what it would send and never calls GitHub';
  if (event.status === 'suppressed') return 'none: the loop guard refused this rollback, so nothing is sent';
  return 'none yet: the dispatch is queued';
}

/** Why a rollback's outcome is not followed: only a delivered dispatch starts a workflow run to follow. */
export function notFollowedBecause(event: RollbackEvent): string {
  if (event.status === 'dry_run') return 'not followed: a dry run sends nothing, so no workflow runs';
  if (event.status === 'suppressed') return 'not followed: nothing was sent';
  if (event.status === 'failed') return 'not followed: the dispatch failed, so no workflow ran; fix the cause (Last error above), then replay';
  return 'not followed yet: it starts once GitHub has the dispatch';
}

/** A dead end: why (the outcome's reason: the failed job and step, the cause and its remedy), and who took it from here. */
function NeedsAPersonSection({ data, session }: { data: RollbackData; session: Session }) {
  const { event, now, acknowledged } = data;
  const last = data.history.at(-1);
  return (
    <Section title="Needs a person">
      <p>
        <Badge value={event.outcome} /> {event.outcomeReason}
      </p>
      {last?.url && (
        <p>
          <Link url={last.url}>Open where it failed</Link>
        </p>
      )}
      {acknowledged ? (
        <p>
          Acknowledged by <strong>{acknowledged.by}</strong> ({acknowledged.via === 'ui' ? 'status page' : 'API'}) <When at={acknowledged.at} now={now} />
          {acknowledged.reason && <>: {acknowledged.reason}</>}
        </p>
      ) : (
        <form method="post" action={`${eventHref(event.id)}/acknowledge`} class="inline">
          <Csrf token={session.csrf} />
          <label>
            What you are doing about it <input name="reason" required maxLength={500} />
          </label>
          <button type="submit">Acknowledge…</button>
        </form>
      )}
    </Section>
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
      {data.needsAPerson && <NeedsAPersonSection data={data} session={session} />}
      <RestoreSection event={event} />
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
        {/* Scrolls inside its box on a phone: focusable, so a keyboard can scroll it too. */}
        <pre tabIndex={0}>{data.dispatch}</pre>
      </Section>
      <Section title="Delivery attempts">
        {data.attempts.length === 0 ? (
          <p class="muted">{noAttemptsBecause(event)}</p>
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
          <p class="muted">{notFollowedBecause(event)}</p>
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
