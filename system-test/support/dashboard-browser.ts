/**
 * The dashboard in a real browser for the system tests: playwright-core driving Debian's
 * Chromium (or CHROMIUM_BIN) over a TestPlatform. Screenshots go to docs/images/ with
 * UPDATE_DOCS=1 (the pictures the docs show), otherwise to a temporary folder removed at the end,
 * so a test run leaves the tree clean. Every Content-Security-Policy refusal and page error the
 * browser reports is collected: a view that needs anything the policy forbids fails its test.
 *
 * Needs /usr/bin/chromium: `apt-get install -y --no-install-recommends chromium`. Without it the
 * suite fails and says so; it never skips.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO_ROOT } from './service-process';
import type { TestPlatform } from './test-platform';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export class DashboardBrowser {
  /** CSP refusals and uncaught page errors seen so far. */
  readonly problems: string[] = [];
  private readonly screenshotDir = process.env.UPDATE_DOCS
    ? join(REPO_ROOT, 'docs', 'images')
    : mkdtempSync(join(tmpdir(), 'dashboard-'));

  private constructor(
    readonly browser: Browser,
    readonly page: Page,
  ) {}

  static async open(platform: TestPlatform, view = 'tasks'): Promise<DashboardBrowser> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}. Install it with ` +
          '`apt-get install -y --no-install-recommends chromium` (CI: add chromium to ' +
          'EXTRA_DEBS in .ci/run), or set CHROMIUM_BIN to its path.',
      );
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const dashboard = new DashboardBrowser(browser, page);
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) {
        dashboard.problems.push(message.text());
      }
    });
    page.on('pageerror', (err) => dashboard.problems.push(String(err)));
    // Confirmations (deleting a schedule) are answered yes, as the operator would.
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${platform.baseUrl}/dashboard#/${view}`);
    return dashboard;
  }

  /** Shows a view through its navigation link, as a user would. */
  async go(view: string): Promise<void> {
    await this.page.click(`#nav a[data-view="${view}"]`);
    await this.page.waitForSelector(`#view-${view}:not([hidden])`);
  }

  /** Saves the page as `<name>.png`; returns its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(this.screenshotDir, { recursive: true });
    const path = join(this.screenshotDir, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  /** The page's status line once it matches `pattern`. */
  async statusLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const selector = `#status-line:text-matches(${JSON.stringify(pattern.source)}, "${pattern.flags}")`;
    const line = await this.page.waitForSelector(selector, { timeout: timeoutMs });
    return (await line.textContent()) ?? '';
  }

  async close(): Promise<void> {
    await this.page.close().catch(() => undefined);
    await this.browser.close();
    if (!process.env.UPDATE_DOCS) rmSync(this.screenshotDir, { recursive: true, force: true });
  }
}
