import type { Session } from '../session';
import type { OverviewData } from '../status-page-data';
import { counted } from '../format';
import { Layout } from './layout';
import { Badge, Pager, Rev, Table, When, appHref, eventHref } from './parts';

/** The part of the overview that refreshes itself (public/ui.js fetches it again every second). */
export function OverviewLive({ data }: { data: OverviewData }) {
  const { banners, now } = data;
  return (
    <>
      {banners.store && (
        <div class="banner bad" role="alert">
          <strong>The store is failing: {banners.store.label}.</strong> Since <When at={banners.store.since} now={now} />, {counted(banners.store.count, 'write')} failed; webhooks are
          answered 503 and Argo CD retries them. First error: <code>{banners.store.first}</code>
        </div>
      )}
      {banners.needsAPerson && (
        <div class="banner bad" role="alert">
          <strong>{counted(banners.needsAPerson.count, 'rollback')} {banners.needsAPerson.count === 1 ? 'needs' : 'need'} a person</strong>: the app was not brought back by itself. Open one to
          see why and what to do, then acknowledge it there.
          <ul>
            {banners.needsAPerson.newest.map((r) => (
              <li key={r.id}>
                <a href={appHref(r.app)}>{r.app}</a> <a href={eventHref(r.id)}><Badge value={r.outcome} /></a> <When at={r.since} now={now} />
                {r.reason && <div class="note">{r.reason}</div>}
              </li>
            ))}
          </ul>
          {banners.needsAPerson.count > banners.needsAPerson.newest.length && <>and {counted(banners.needsAPerson.count - banners.needsAPerson.newest.length, 'more')} (GET /v1/status lists the newest).</>}
        </div>
      )}
      {banners.wiring && (
        <div class="banner bad" role="alert">
          <strong>GitHub wiring check failed:</strong>
          <ul>
            {banners.wiring.map((c) => (
              <li key={`${c.repository}-${c.check}`}>
                {c.repository} ({c.check}): {c.detail}
              </li>
            ))}
          </ul>
        </div>
      )}
      {banners.undelivered && (
        <div class="banner warn" role="alert">
          <strong>{counted(banners.undelivered.count, 'event')} not yet delivered</strong>
          {banners.undelivered.oldestAt !== undefined && (
            <>
              , the oldest since <When at={banners.undelivered.oldestAt} now={now} />
            </>
          )}
          {banners.undelivered.failed > 0 ? <>; {banners.undelivered.failed} failed (open one to see why and replay it once the cause is fixed):</> : '.'}
          {banners.undelivered.newestFailed.length > 0 && (
            <ul>
              {banners.undelivered.newestFailed.map((e) => (
                <li key={e.id}>
                  <a href={appHref(e.app)}>{e.app}</a>{' '}
                  <a href={eventHref(e.id)}>
                    <Badge value={e.status} />
                  </a>{' '}
                  <When at={e.updatedAt} now={now} />
                  {e.lastError && <div class="note">{e.lastError}</div>}
                </li>
              ))}
            </ul>
          )}
          {banners.undelivered.failed > banners.undelivered.newestFailed.length && <>and {counted(banners.undelivered.failed - banners.undelivered.newestFailed.length, 'more')} (GET /v1/events?status=failed lists them).</>}
        </div>
      )}
      {banners.refusedNotifications && (
        <div class="banner bad" role="alert">
          <strong>{counted(banners.refusedNotifications.count, 'notification')} refused by the receiver</strong> (marked failed; later ones were sent): check NOTIFY_URL and NOTIFY_FORMAT.
          <ul>
            {banners.refusedNotifications.newest.map((n) => (
              <li key={n.id}>
                <a href={appHref(n.app)}>{n.app}</a> {n.kind}: {n.error} <When at={n.createdAt} now={now} />
              </li>
            ))}
          </ul>
        </div>
      )}
      <p class="muted">
        {counted(data.totalApps, 'app')} · updated <When at={now} now={now} />
      </p>
      <Table columns={['App', 'Health', 'Paused', 'Last rollback', 'Outcome', 'In loop-guard window']}>
        {data.apps.map((row) => (
          <tr key={row.app}>
            <th scope="row">
              <a href={appHref(row.app)}>{row.app}</a>
            </th>
            <td>
              {row.lastReport ? (
                <>
                  <Badge value={row.lastReport.status} /> <Rev revision={row.lastReport.revision} /> <When at={row.lastReport.reportedAt} now={now} />
                </>
              ) : (
                <span class="muted">no report</span>
              )}
            </td>
            <td>{row.paused ? <Badge value="paused" label={`paused by ${row.paused.by}`} /> : <span class="muted">no</span>}</td>
            <td>
              {row.refusal ? (
                <>
                  <Badge value="refused" label="no rollback" /> <When at={row.refusal.reportedAt} now={now} />
                  <div class="note">{row.refusal.note}</div>
                </>
              ) : row.lastRollback ? (
                <>
                  <a href={eventHref(row.lastRollback.id)}>
                    <Badge value={row.lastRollback.status} />
                  </a>{' '}
                  <When at={row.lastRollback.createdAt} now={now} />
                  {row.lastRollback.suppressionReason && <div class="note">{row.lastRollback.suppressionReason}</div>}
                </>
              ) : (
                <span class="muted">none</span>
              )}
            </td>
            <td>{row.lastRollback?.outcome ? <Badge value={row.lastRollback.outcome} /> : <span class="muted">none</span>}</td>
            <td>
              {row.rollbacksInWindow} of {row.route.maxPerWindow} in {row.route.windowMinutes} min
            </td>
          </tr>
        ))}
      </Table>
      <Pager page={data.page} pages={data.pages} href={(p) => `/ui/?page=${p}`} />
    </>
  );
}

export function OverviewPage({ data, session }: { data: OverviewData; session: Session }) {
  return (
    <Layout title="Overview" session={session}>
      <h1>Apps</h1>
      <div id="live" data-live={`/ui/overview/live?page=${data.page}`} aria-live="polite">
        <OverviewLive data={data} />
      </div>
    </Layout>
  );
}
