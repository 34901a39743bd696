/**
 * The dashboard's workflows and charts views in Chromium against the whole platform: a workflow
 * started from the page is drawn as a graph (a step per node, an edge per dependency) whose
 * nodes turn SUCCESS as the steps finish; the charts, drawn by Chart.js under the page's strict
 * Content-Security-Policy, show the tasks that finished. Both are saved as screenshots. And the
 * page by keyboard: a skip link first, the views through the navigation's links, a visible focus
 * ring, a label for every field.
 */
import { waitFor } from '@tasks/runtime/testing';
import { dashboardSuite } from '../support/dashboard-suite';

describe('dashboard: workflows and charts', () => {
  const suite = dashboardSuite({
    platform: {
      services: ['gateway', 'status-store', 'processing-worker', 'report-worker'],
      env: { SERIES_INTERVAL_MS: '1000' },
    },
    view: 'workflows',
  });

  it('draws a workflow started from the page as a graph that follows its steps', async () => {
    const { page } = suite.dashboard;
    await page.click('#workflow-submit');
    const line = await suite.dashboard.statusLine(/workflow \S+ started with 4 steps/);
    const workflowId = /workflow (\S+) started/.exec(line)?.[1] ?? '';
    await page.waitForSelector(`#workflow-detail-id:text("${workflowId}")`);
    // chain [a, group [b, c], d]: b and c wait for a, d for both.
    await page.waitForSelector('#workflow-graph a.node >> nth=3');
    expect(await page.$$('#workflow-graph a.node')).toHaveLength(4);
    expect(await page.$$('#workflow-graph path.edge')).toHaveLength(4);
    await page.waitForSelector('#workflow-state .state[data-status="SUCCESS"]', {
      timeout: 30_000,
    });
    const states = await page.$$eval('#workflow-graph a.node', (nodes) =>
      nodes.map((node) => node.getAttribute('data-status')),
    );
    expect(states).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    const view = (await suite.platform.request('GET', `/workflows/${workflowId}`)).body as {
      steps: { task_id: string; after: string[] }[];
    };
    const [first, left, right, last] = view.steps.map((s) => s.task_id);
    const edges = await page.$$eval('#workflow-graph path.edge', (paths) =>
      paths.map((p) => `${p.getAttribute('data-from')}>${p.getAttribute('data-to')}`),
    );
    expect(edges.sort()).toEqual(
      [`${first}>${left}`, `${first}>${right}`, `${left}>${last}`, `${right}>${last}`].sort(),
    );
    await suite.dashboard.screenshot('dashboard-workflow');

    // Each node is a link to its step's task, reachable by keyboard.
    await page.focus(`#workflow-graph a.node[data-task-id="${last}"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#detail-id:text("${last}")`);
  }, 60_000);

  it('charts throughput, failures, run time and queue depth with Chart.js', async () => {
    const { page } = suite.dashboard;
    for (let i = 0; i < 5; i += 1) await suite.platform.submit('process', { data: { records: 2 } });
    await suite.dashboard.go('charts');
    await waitFor(
      async () => Number(await page.getAttribute('#view-charts', 'data-finished')) >= 5,
      { timeoutMs: 20_000, message: 'the charts count the finished tasks' },
    );
    const drawn = await page.evaluate(() => {
      const { Chart } = globalThis as unknown as {
        Chart: { getChart(id: string): { data: { datasets: { data: (number | null)[] }[] } } };
      };
      return ['chart-throughput', 'chart-failures', 'chart-latency', 'chart-depth'].map((id) =>
        Chart.getChart(id)?.data.datasets.map((d) => d.data.length),
      );
    });
    for (const datasets of drawn) {
      expect(datasets?.length).toBeGreaterThan(0);
      for (const points of datasets ?? []) expect(points).toBeGreaterThan(0);
    }
    const latency = await page.evaluate(() => {
      const { Chart } = globalThis as unknown as {
        Chart: { getChart(id: string): { data: { datasets: { data: (number | null)[] }[] } } };
      };
      return Chart.getChart('chart-latency')?.data.datasets[0]?.data.filter((v) => v !== null);
    });
    expect(latency?.length).toBeGreaterThan(0);
    await suite.dashboard.screenshot('dashboard-charts');
  }, 60_000);

  it('is usable by keyboard, with a visible focus and a label for every field', async () => {
    const { page } = suite.dashboard;
    await page.goto(`${suite.platform.baseUrl}/dashboard#/tasks`);
    await page.reload(); // a fresh page: the focus starts at its top
    await page.waitForSelector('#view-tasks:not([hidden])');
    await page.keyboard.press('Tab');
    expect(await page.$eval(':focus', (node) => node.textContent)).toBe('Skip to the view');
    // Tab along the header to the Queues link, then Enter.
    let reached = false;
    for (let i = 0; i < 20 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.$eval(':focus', (node) => node.getAttribute('data-view') === 'queues');
    }
    expect(reached).toBe(true);
    const ring = await page.$eval(':focus', (node) => {
      const style = node.ownerDocument.defaultView!.getComputedStyle(node);
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    expect(ring.style).not.toBe('none');
    expect(ring.width).toBeGreaterThan(0);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#view-queues:not([hidden])');
    expect(await page.$eval(':focus', (node) => node.textContent)).toBe('Queues');
    expect(await page.getAttribute('#nav a[data-view="queues"]', 'aria-current')).toBe('page');

    const unlabelled = await page.$$eval('input, select, textarea', (fields) =>
      fields
        .filter((field) => {
          const labelled = (field as unknown as { labels: unknown[] | null }).labels;
          return !field.getAttribute('aria-label') && !(labelled && labelled.length > 0);
        })
        .map((field) => field.id || field.outerHTML),
    );
    expect(unlabelled).toEqual([]);
  }, 30_000);
});
