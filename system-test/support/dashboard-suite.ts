/**
 * The set-up every dashboard test file shares, as Jest hooks: before all, the platform started,
 * the gateway connected and Chromium open on one view; after each test, no CSP refusal or page
 * error; after all, the browser and the platform closed.
 */
import { DashboardBrowser } from './dashboard-browser';
import { gatewayConnected } from './probes';
import { TestPlatform, type TestPlatformOptions } from './test-platform';

export interface DashboardSuiteOptions {
  readonly platform: TestPlatformOptions;
  /** The view the page opens on. */
  readonly view: string;
  /** Runs once the platform is up, before the page opens (more services, say). */
  readonly beforeOpen?: (platform: TestPlatform) => Promise<void>;
}

/** The platform and the browser of a test file; read them inside hooks and tests only. */
export interface DashboardSuite {
  readonly platform: TestPlatform;
  readonly dashboard: DashboardBrowser;
}

/** Registers the hooks; call it at the top of the file's `describe`. */
export function dashboardSuite(options: DashboardSuiteOptions): DashboardSuite {
  let platform: TestPlatform | undefined;
  let dashboard: DashboardBrowser | undefined;

  beforeAll(async () => {
    platform = await TestPlatform.start(options.platform);
    await options.beforeOpen?.(platform);
    await gatewayConnected(platform);
    dashboard = await DashboardBrowser.open(platform, options.view);
  }, 90_000);

  afterAll(async () => {
    await dashboard?.close();
    await platform?.stop();
  }, 60_000);

  const suite: DashboardSuite = {
    get platform() {
      if (!platform)
        throw new Error("no platform: the dashboard suite's beforeAll has not run or failed");
      return platform;
    },
    get dashboard() {
      if (!dashboard)
        throw new Error("no browser: the dashboard suite's beforeAll has not run or failed");
      return dashboard;
    },
  };

  afterEach(() => {
    expect(suite.dashboard.problems).toEqual([]);
  });

  return suite;
}
