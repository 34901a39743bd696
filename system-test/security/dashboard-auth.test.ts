/**
 * The dashboard with API keys configured, in a real browser: without a key its calls are
 * refused (401 shown), with the operator's key typed in it submits a task and follows it to
 * SUCCESS over the task's event stream (read with fetch, so the key is a header: no request of
 * the page carries it in its URL), and the key is kept for the tab only.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { apiKeysEnv, makeKey } from '../support/api-keys';
import { gatewayConnected } from '../support/probes';
import { TestPlatform } from '../support/test-platform';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const operator = makeKey('operator', ['admin']);

describe('dashboard with API keys', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium`,
      );
    }
    platform = await TestPlatform.start({
      services: ['gateway', 'status-store', 'processing-worker'],
      env: { API_KEYS: apiKeysEnv([operator]) },
    });
    await gatewayConnected(platform);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    page = await browser.newPage();
    await page.goto(`${platform.baseUrl}/dashboard`);
  }, 90_000);

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await platform?.stop();
  }, 60_000);

  it('is refused without a key, and works with the operator key', async () => {
    const urls: string[] = [];
    const streamKeys: (string | undefined)[] = [];
    page.on('request', (request) => {
      urls.push(request.url());
      if (request.url().endsWith('/events')) streamKeys.push(request.headers().authorization);
    });
    await page.selectOption('#submit-type', 'process');
    // A second's countdown: the list opens the task's stream while it waits.
    await page.fill('#submit-body', JSON.stringify({ data: { records: 2 }, countdown: 1 }));
    await page.click('#submit-button');
    await page.waitForSelector('#status-line:has-text("401")', { timeout: 10_000 });

    await page.fill('#api-key', operator.key);
    await page.press('#api-key', 'Enter');
    await page.click('#submit-button');
    const line = await page.waitForSelector('#status-line:text-matches("queued [-0-9a-f]+")', {
      timeout: 10_000,
    });
    const id = /queued (\S+)/.exec((await line.textContent()) ?? '')?.[1] ?? '';
    await page.waitForSelector(`#tasks tr[data-task-id="${id}"][data-status="SUCCESS"]`, {
      timeout: 30_000,
    });
    expect(streamKeys.length).toBeGreaterThan(0);
    expect(streamKeys.every((header) => header === `Bearer ${operator.key}`)).toBe(true);
    await page.click(`#tasks tr[data-task-id="${id}"] a`);
    await page.waitForSelector('#detail-timeline li[data-state="SUCCESS"]', { timeout: 10_000 });
    expect(urls.filter((url) => url.includes(operator.key))).toEqual([]);
    /** The page's Web Storage, as the browser holds it (no DOM types in these tests). */
    type Storages = Record<'sessionStorage' | 'localStorage', Record<string, string>>;
    const kept = await page.evaluate(() => {
      const { sessionStorage, localStorage } = globalThis as unknown as Storages;
      return {
        session: sessionStorage['task-platform.dashboard.api-key'],
        local: JSON.stringify(localStorage),
      };
    });
    expect(kept.session).toBe(operator.key);
    expect(kept.local).not.toContain(operator.key);
  }, 60_000);

  it('leaves the Swagger UI at /docs working under its Content-Security-Policy', async () => {
    const docs = await browser.newPage();
    const violations: string[] = [];
    docs.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text()))
        violations.push(message.text());
    });
    try {
      await docs.goto(`${platform.baseUrl}/docs/`);
      await docs.waitForSelector('.swagger-ui .info .title', { timeout: 20_000 });
      await docs.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
      expect(violations).toEqual([]);
    } finally {
      await docs.close();
    }
  }, 60_000);
});
