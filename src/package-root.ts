import { resolve } from 'node:path';

/**
 * The folder that holds package.json and public/. This file sits directly in src/ (tests run it from
 * there) and `npm run build` bundles everything into dist/main.js, directly in dist/: one level up is
 * the root from both.
 */
export const PACKAGE_ROOT = resolve(__dirname, '..');
