import type { ComponentChildren } from 'preact';
import type { Session } from '../session';
import { useContext } from 'preact/hooks';
import { Csrf } from './parts';
import { PageContext } from './page-context';

/** The page around every view: one stylesheet and one script, both served by the service (public/). */
export function Layout({ title, session, children }: { title: string; session?: Session; children: ComponentChildren }) {
  const facts = useContext(PageContext);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · gitops-rollback-webhook`}</title>
        <link rel="icon" href="/ui/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/ui/static/ui.css" />
        <script src="/ui/static/ui.js" defer></script>
      </head>
      <body>
        <header>
          <a class="brand" href="/ui/">
            gitops-rollback-webhook
          </a>
          {session && (
            <form method="post" action="/ui/logout" class="signout">
              <span>signed in as {session.name}</span>
              <Csrf token={session.csrf} />
              <button type="submit">Sign out</button>
            </form>
          )}
          {session && (
            <form method="post" action="/ui/logout-everywhere" class="signout">
              <Csrf token={session.csrf} />
              <button type="submit">Sign out everywhere</button>
            </form>
          )}
        </header>
        <main>
          {facts.dryRun && (
            <div class="banner warn" role="status">
              <strong>Dry run:</strong> rollbacks are decided, recorded and logged, and nothing is sent to GitHub (<code>DRY_RUN</code> is on).
            </div>
          )}
          {facts.dryRunRoutes.length > 0 && (
            <div class="banner warn" role="status">
              <strong>Dry run for some apps:</strong> routes {facts.dryRunRoutes.join(', ')} record rollbacks without sending them to GitHub.
            </div>
          )}
          {children}
        </main>
      </body>
    </html>
  );
}
