import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Read at run time so the same code works from src/ (tests) and dist/ (production) without
// pulling package.json into the compiled tree.
const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;
export const USER_AGENT = `gitops-rollback-webhook/${VERSION}`;
