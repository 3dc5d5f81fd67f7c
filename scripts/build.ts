/**
 * `npm run build`: the service as one file, dist/main.js (esbuild). Node then reads and compiles one
 * file at start instead of resolving and loading about 900 modules one by one: start to ready went
 * from about 600 to about 470 ms on this project's machine (README, Performance). Type checking is
 * `npm run typecheck`; esbuild only strips the types.
 *
 * Left outside the bundle, loaded from node_modules at run time (they are production dependencies,
 * installed in the image): better-sqlite3 (a native addon) and what only some configurations load,
 * each already required lazily: pg (DATABASE_URL postgres://), yaml (ROUTES_FILE) and
 * universal-github-app-jwt (a GitHub App).
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Readable stack traces without a source map; dist/main.js.map is there for --enable-source-maps.
  sourcemap: 'linked',
  external: ['better-sqlite3', 'pg', 'yaml', 'universal-github-app-jwt'],
  logLevel: 'warning',
}).catch(() => {
  process.exitCode = 1;
});
