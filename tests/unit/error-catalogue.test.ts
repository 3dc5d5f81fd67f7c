import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../src/errors';

/** Rows of the README's error table: | `CODE` | status | when | */
function readmeErrorTable(): Map<string, number> {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Errors'));
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(match[1]!, Number(match[2]));
  return rows;
}

describe('error catalogue', () => {
  it('when the README documents the error codes, then its table matches the catalogue code for code and status for status', () => {
    const fromCatalogue = new Map(Object.entries(ERROR_CATALOGUE).map(([code, entry]) => [code, entry.status]));
    const fromReadme = readmeErrorTable();
    expect(fromReadme.size).toBeGreaterThan(0);
    expect(Object.fromEntries(fromReadme)).toEqual(Object.fromEntries(fromCatalogue));
  });

  it.each(Object.keys(ERROR_CATALOGUE) as ErrorCode[])('when AppError(%s) is made, then it carries the catalogue status and message', (code) => {
    const error = new AppError(code);
    expect(error.status).toBe(ERROR_CATALOGUE[code].status);
    expect(error.message).toBe(ERROR_CATALOGUE[code].message);
  });
});
