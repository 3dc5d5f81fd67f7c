import type { ComponentChildren } from 'preact';
import { relativeTime, shortRevision, toneOf } from '../format';

/** Small pieces every page uses. Every text passes through Preact, which escapes it. */

export function When({ at, now }: { at: number | null | undefined; now: number }) {
  if (at === null || at === undefined) return <span class="muted">never</span>;
  const iso = new Date(at).toISOString();
  return (
    <time datetime={iso} title={iso}>
      {relativeTime(at, now)}
    </time>
  );
}

/** A short revision with the full id on hover and a button that copies it (public/ui.js). */
export function Rev({ revision }: { revision: string | null | undefined }) {
  if (!revision) return <span class="muted">none</span>;
  return (
    <span class="rev">
      <code title={revision}>{shortRevision(revision)}</code>
      <button type="button" class="copy" data-copy={revision} aria-label={`Copy revision ${revision}`}>
        copy
      </button>
    </span>
  );
}

export function Badge({ value, label }: { value: string | null | undefined; label?: string }) {
  if (!value) return <span class="muted">none</span>;
  return <span class={`badge ${toneOf(value)}`}>{label ?? value.replaceAll('_', ' ')}</span>;
}

export function Pager({ page, pages, href }: { page: number; pages: number; href: (page: number) => string }) {
  if (pages <= 1) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {page > 1 ? <a href={href(page - 1)} rel="prev">← newer</a> : <span class="muted">← newer</span>}
      <span>
        page {page} of {pages}
      </span>
      {page < pages ? <a href={href(page + 1)} rel="next">older →</a> : <span class="muted">older →</span>}
    </nav>
  );
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** A table with a header row of column names; the rows are the children. */
export function Table({ columns, children }: { columns: readonly string[]; children: ComponentChildren }) {
  return (
    // On a phone the table scrolls inside its box, never the page (tabindex: a keyboard can scroll it too).
    <div class="scroll" tabIndex={0}>
      <table>
        <thead>
          <tr>
            {columns.map((name) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The hidden field every form posts back (src/ui/session.ts). */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

export const appHref = (app: string) => `/ui/apps/${encodeURIComponent(app)}`;
export const eventHref = (id: string) => `/ui/events/${id}`;
