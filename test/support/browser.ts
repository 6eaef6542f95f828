// A real browser for console tests: Debian's Chromium (installed quietly when missing, as on CI)
// driven by playwright-core, headless, with a fresh profile per launch.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { REPO_ROOT } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Installs Debian's `chromium` package when it is not there yet (idempotent, quiet). */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const run = (args: string[]) => execFileSync(sudo[0] ?? args[0]!, [...sudo.slice(1), ...(sudo.length ? args : args.slice(1))], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is missing`);
}

/**
 * A headless Chromium with its own throw-away profile (`--user-data-dir`, which Playwright takes
 * as the persistent context's directory); `close()` removes the profile.
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'syncctl-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where console screenshots go (gitignored `tmp/`): test artefacts, never committed. */
export function screenshotDir(): string {
  const dir = join(REPO_ROOT, 'tmp', 'console-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
