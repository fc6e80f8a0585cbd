import { existsSync } from 'node:fs';

import { type Browser, chromium } from 'playwright-core';

export type { Browser, Page } from 'playwright-core';

/** Debian's chromium: a real browser for the tests (playwright-core drives it; nothing is downloaded). */
export const CHROMIUM = process.env['MCP_TEST_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Launches headless chromium (playwright gives it a fresh temporary profile) with no background
 * networking, which this machine's closed network would refuse. Fails with how to install it when
 * it is missing, instead of skipping.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set MCP_TEST_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
