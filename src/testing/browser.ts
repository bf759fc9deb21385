/**
 * Headless Chromium for the web UI's tests: Debian's /usr/bin/chromium (installed by
 * scripts/install-system-packages.sh), driven by playwright-core. The flags keep it off the
 * network: this machine has none beyond its package mirrors, and Chromium's background
 * connections would otherwise fail at every start.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Starts headless Chromium.
 * @throws Error naming the install script when Chromium is missing
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: run bash scripts/install-system-packages.sh (it installs Debian's chromium package)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}
