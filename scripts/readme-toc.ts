/**
 * npm run docs:toc: writes the README's table of contents (its ## headings, with GitHub's anchors) between
 * the <!-- toc --> markers. tests/unit/deploy-files.test.ts checks it is current.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const README = join(__dirname, '..', 'README.md');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

export function tableOfContents(markdown: string): string {
  let fenced = false;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^## (.+)$/.exec(line)?.[1];
    if (heading) lines.push(`- [${heading}](#${anchorOf(heading)})`);
  }
  return lines.join('\n');
}

export function withTableOfContents(markdown: string): string {
  return markdown.replace(/<!-- toc -->[\s\S]*?<!-- \/toc -->/, `<!-- toc -->\n${tableOfContents(markdown)}\n<!-- /toc -->`);
}

if (require.main === module) writeFileSync(README, withTableOfContents(readFileSync(README, 'utf8')));
