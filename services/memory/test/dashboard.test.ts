/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core. Stores through the
 * REST API and sees the memory appear without a reload (live, from /events with a signed token),
 * searches in each mode, edits tags, deletes, and saves screenshots (desktop and phone) under
 * test/screenshots/ (gitignored) for a person to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { httpRequest, type StartedService, startService } from '@mcp-sse/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { serviceEnv, tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const KEY = 'k-dashboard';
/** What the page shows comes after a fetch or an event: polled for a bound a loaded machine meets (vitest's default is 1 s). */
const POLL = { timeout: 15_000, interval: 50 };
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

describe('dashboard in chromium', () => {
  let svc: StartedService;
  let browser: BrowserContext;
  let page: Page;
  let cleanup: () => void;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the dashboard test needs Debian's chromium (apt-get install -y chromium)`,
      );
    }
    let dir: string;
    ({ dir, cleanup } = tempDir());
    svc = await startService(service, { env: serviceEnv(join(dir, 'memory.db'), { MCP_API_KEYS: KEY }) });
    profile = mkdtempSync(join(tmpdir(), 'mcp-memory-chromium-'));
    // A fresh profile folder each run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1100, height: 800 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('dialog', (dialog) => void dialog.accept());
    mkdirSync(screenshots, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
    cleanup?.();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const store = async (content: string, tags: string[]) => {
    const response = await httpRequest(`${svc.url}/api/memories`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ content, tags }),
    });
    expect(response.status).toBe(201);
    return (response.json as { hash: string }).hash;
  };
  const items = () => page.locator('#memories > li');

  it('asks for the key, then lists, shows stores live, searches, edits tags and deletes', async () => {
    await store('The staging database is rebuilt every Sunday night', ['ops', 'staging']);
    await page.goto(svc.url);
    await page.locator('#key-form').waitFor({ state: 'visible' });
    await page.fill('#key', KEY);
    await page.press('#key', 'Enter');
    await expect.poll(() => items().count(), POLL).toBe(1);
    await page.locator('#live', { hasText: 'live' }).waitFor();

    // Stored through the API by someone else: appears without a reload.
    const coffee = await store('Alice takes her coffee black', ['alice']);
    await page.locator(`[data-hash="${coffee}"]`).waitFor();
    await store('Deploys happen on Tuesdays after review', ['process']);
    await expect.poll(() => items().count(), POLL).toBe(3);

    // Stored through the page's own form, with the keyboard.
    await page.focus('#content');
    await page.keyboard.type('The VPN certificate expires in March');
    await page.fill('#store-tags', 'ops, security');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => items().count(), POLL).toBe(4);
    await expect.poll(() => page.locator('#summary').textContent(), POLL).toBe('4 memories');
    await page.screenshot({ path: join(screenshots, 'dashboard-desktop.png'), fullPage: true });

    // Search in the three modes.
    await page.fill('#query', 'coffee');
    await page.selectOption('#mode', 'exact');
    await page.click('#search-form button');
    await expect.poll(() => page.locator('#summary').textContent(), POLL).toBe('1 found (exact)');
    await expect(items().first().locator('p').textContent()).resolves.toBe('Alice takes her coffee black');
    await page.selectOption('#mode', 'semantic');
    await page.fill('#query', 'when are deploys');
    await page.click('#search-form button');
    await expect
      .poll(() => items().first().locator('p').textContent(), POLL)
      .toBe('Deploys happen on Tuesdays after review');
    await page.selectOption('#mode', 'hybrid');
    await page.fill('#tag-filter', 'ops');
    await page.fill('#query', 'database');
    await page.click('#search-form button');
    await expect.poll(() => page.locator('#summary').textContent(), POLL).toMatch(/^\d found \(hybrid\)$/);
    await expect(items().first().locator('p').textContent()).resolves.toBe(
      'The staging database is rebuilt every Sunday night',
    );

    // Back to the list; edit tags; delete.
    await page.fill('#query', '');
    await page.fill('#tag-filter', '');
    await page.click('#search-form button');
    await expect.poll(() => items().count(), POLL).toBe(4);
    const coffeeItem = page.locator(`[data-hash="${coffee}"]`);
    await coffeeItem.getByRole('button', { name: /Edit tags/ }).click();
    await coffeeItem.locator('input').fill('alice, drinks');
    await coffeeItem.locator('input').press('Enter');
    await page.locator(`[data-hash="${coffee}"] .tag`, { hasText: 'drinks' }).waitFor();
    const tags = await httpRequest(`${svc.url}/api/memories/${coffee}`, { headers: auth });
    expect((tags.json as { memory: { tags: string[] } }).memory.tags).toEqual(['alice', 'drinks']);
    await page
      .locator(`[data-hash="${coffee}"]`)
      .getByRole('button', { name: /Delete/ })
      .click();
    await expect.poll(() => page.locator(`[data-hash="${coffee}"]`).count(), POLL).toBe(0);
    expect((await httpRequest(`${svc.url}/api/memories/${coffee}`, { headers: auth })).status).toBe(404);

    // Deleted through the API by someone else: disappears live.
    const list = await httpRequest(`${svc.url}/api/memories`, { headers: auth });
    const other = (list.json as { memories: { hash: string }[] }).memories[0]!.hash;
    await httpRequest(`${svc.url}/api/memories/${other}`, { method: 'DELETE', headers: auth });
    await expect.poll(() => page.locator(`[data-hash="${other}"]`).count(), POLL).toBe(0);
    await expect.poll(() => page.locator('#summary').textContent(), POLL).toBe('2 memories');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(screenshots, 'dashboard-phone.png'), fullPage: true });
    // Readable on a phone: nothing wider than the screen.
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
  }, 60_000);
});
