import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root';

// Read at run time, so the version is the installed package.json's, in tests and in dist/ alike.
const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;
export const USER_AGENT = `gitops-rollback-webhook/${VERSION}`;
