import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Browser, launchBrowser, type StartedService } from '../../testing/src/index.js';
import { buildApp, loadConfig } from '../src/index.js';
import { hashPassword } from '../src/oauth/passwords.js';
import { echoService } from './helpers/echo-service.js';

/**
 * The login and consent pages in a real browser (Debian's chromium, driven by playwright-core): a
 * person logs in and allows with the keyboard on a phone-sized screen, the browser lands on the
 * client's redirect URI with a code, and a page that frames the consent page sees it refused.
 */

const SCREENSHOTS = join(process.cwd(), 'test-results', 'oauth');
let dir: string;
let svc: StartedService;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-oauth-browser-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig(echoService.config, {
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'silent',
    MCP_AUTH: 'oauth',
    MCP_PUBLIC_URL: url,
    MCP_OAUTH_USERS: `alice:${await hashPassword('correct horse battery')}`,
    MCP_OAUTH_DB: join(dir, 'oauth.db'),
  });
  const app = await buildApp(echoService, { config, logger: pino({ level: 'silent' }), defaultMetrics: false });
  await app.listen({ port, host: '127.0.0.1' });
  svc = { url, port, app, close: () => app.close() };
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await svc?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function authorizationUrl(): Promise<string> {
  const registered = await fetch(`${svc.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Phone app',
      redirect_uris: ['http://127.0.0.1:9/callback'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const { client_id } = (await registered.json()) as { client_id: string };
  const url = new URL(`${svc.url}/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client_id);
  url.searchParams.set('redirect_uri', 'http://127.0.0.1:9/callback');
  url.searchParams.set('state', 'xyz');
  url.searchParams.set(
    'code_challenge',
    createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
  );
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

describe('the consent flow in a real browser', { timeout: 60_000 }, () => {
  it('logs in and allows with the keyboard on a phone-sized screen, and lands on the redirect URI with a code', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    // The client's redirect URI is not served: the test only reads where the browser was sent.
    const landed = new Promise<string>((resolve) => {
      void page.route('http://127.0.0.1:9/**', async (route) => {
        resolve(route.request().url());
        await route.fulfill({ status: 200, body: 'back in the app' });
      });
    });
    await page.goto(await authorizationUrl());
    expect(await page.title()).toBe(`Log in to ${svc.url}`);
    // The page fits the screen: nothing wider than the viewport.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(SCREENSHOTS, 'login.png'), fullPage: true });
    // Keyboard only: the user name has the focus, Tab moves to the password, Enter submits.
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('username');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('password');
    await page.keyboard.type('correct horse battery');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.waitForSelector('text=Allow Phone app to use');
    expect(await page.textContent('ul')).toContain('Write: use the tools that change things');
    await page.screenshot({ path: join(SCREENSHOTS, 'consent.png'), fullPage: true });
    await page.focus('button[value=allow]');
    await page.keyboard.press('Enter');
    const back = new URL(await landed);
    expect(back.searchParams.get('code')).toMatch(/^mcpac_/);
    expect(back.searchParams.get('state')).toBe('xyz');
    expect(back.searchParams.get('iss')).toBe(svc.url);
    await context.close();
  });

  it('refuses to be shown inside a frame of another page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const target = await authorizationUrl();
    // An attacker's page frames the login page to capture clicks; the browser must refuse to show it.
    const refused = new Promise<string>((resolve) =>
      page.on('console', (message) => {
        if (/frame-ancestors|X-Frame-Options/.test(message.text())) resolve(message.text());
      }),
    );
    const served = page.waitForResponse((response) => response.url() === target);
    await page.setContent(`<iframe src="${target}" width="400" height="400"></iframe>`);
    // The server did answer the framed request (200, the login page), and chromium blocked it.
    expect((await served).status()).toBe(200);
    expect(await refused).toMatch(
      /violates the following Content Security Policy directive: "frame-ancestors 'none'"\. The request has been blocked\./,
    );
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    expect(await frame?.$$('form')).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'framed.png') });
    await context.close();
  });
});
