import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's chromium (never a downloaded browser); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The browser suites need Chromium: installed from Debian's `chromium` package when missing and this
 * runs as root (as the bench installs wrk), else the run fails saying how to install it. Never skipped.
 */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  const howTo = `Chromium is missing at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH); the browser suites cannot run without it`;
  if (process.getuid?.() !== 0) throw new Error(howTo);
  process.stderr.write(`\ninstalling Debian's chromium for the browser suites\n`);
  const install = () => execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    install();
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(howTo);
}
