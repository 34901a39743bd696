/**
 * Offline checks of the docker-compose profile `monitoring` (no Docker engine): the compose file
 * with the profile passes `docker-compose config -q`; Prometheus's configuration passes
 * `promtool check config` where promtool is installed, and in any case scrapes every service of
 * the manifest at its /metrics port; Grafana's datasource and dashboard provider point at those
 * files; the dashboard JSON parses and every panel's PromQL names only metrics the services
 * export (read from the runtime's metrics module and the gauges the services register).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SERVICES } from '@tasks/contracts';
import { Metrics, metricsRegistry } from '@tasks/runtime';
import { parse as parseYaml } from 'yaml';
import { dashboardFiles, metricNamesIn, panelsOf, queriesOf } from '../support/grafana-dashboards';

const ROOT = resolve(__dirname, '..', '..');
const PROMETHEUS_FILE = join(ROOT, 'deploy', 'prometheus', 'prometheus.yml');
/** The gateway serves /metrics on its API port (docker-compose.yml: GATEWAY_PORT). */
const GATEWAY_PORT = 8000;

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  dns_sd_configs: { names: string[]; type: string; port: number }[];
}

const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, { profiles?: string[]; volumes?: string[]; ports?: string[] }>;
};

describe('docker-compose profile monitoring', () => {
  it('passes `docker-compose config -q` with the profile', () => {
    const result = spawnSync(
      'docker-compose',
      ['-f', join(ROOT, 'docker-compose.yml'), '--profile', 'monitoring', 'config', '-q'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SECRETS_DIR: '' } },
    );
    if (result.error) {
      throw new Error('docker-compose is not installed: `apt-get install -y docker-compose`');
    }
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('runs Prometheus and Grafana only in the profile, on loopback, with these files mounted', () => {
    const prometheus = compose.services.prometheus;
    const grafana = compose.services.grafana;
    expect(prometheus?.profiles).toEqual(['monitoring']);
    expect(grafana?.profiles).toEqual(['monitoring']);
    for (const port of [...(prometheus?.ports ?? []), ...(grafana?.ports ?? [])])
      expect(port).toMatch(/^127\.0\.0\.1:/);
    expect(prometheus?.volumes).toContain(
      './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
    expect(grafana?.volumes).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ]),
    );
  });
});

describe('Prometheus configuration', () => {
  const config = parseYaml(readFileSync(PROMETHEUS_FILE, 'utf8')) as {
    scrape_configs: ScrapeConfig[];
  };

  it('passes `promtool check config` when promtool is installed', () => {
    const result = spawnSync('promtool', ['check', 'config', PROMETHEUS_FILE], {
      encoding: 'utf8',
    });
    // Without promtool the parse and the targets below are the check.
    if (result.error) {
      expect(config.scrape_configs.length).toBeGreaterThan(0);
      return;
    }
    expect({ status: result.status, stderr: result.stderr }).toEqual({
      status: 0,
      stderr: expect.any(String),
    });
  });

  it('scrapes every service of the manifest at its /metrics port, one job each', () => {
    const scraped = config.scrape_configs.map((c) => ({
      job: c.job_name,
      path: c.metrics_path ?? '/metrics',
      targets: c.dns_sd_configs.flatMap((d) => d.names.map((n) => `${d.type} ${n}:${d.port}`)),
    }));
    const expected = SERVICES.map((s) => ({
      job: s.name,
      path: '/metrics',
      targets: [`A ${s.name}:${s.probePort ?? GATEWAY_PORT}`],
    }));
    expect(scraped).toEqual(expected);
    // Each target is a compose service whose probe server listens beyond its loopback.
    const env = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(env).toMatch(/^\s+METRICS_HOST: 0\.0\.0\.0$/m);
    for (const s of SERVICES) expect(Object.keys(compose.services)).toContain(s.name);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * Every metric name a service exports: the runtime's counters and histograms (created here, as a
 * service does on first use, and read back from the registry with their type) and the gauges
 * registered with addGaugeSource in the runtime and the services' sources.
 */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const make of Object.values(Metrics)) make();
  for (const metric of metricsRegistry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  for (const file of sourceFiles([join(ROOT, 'runtime', 'src'), join(ROOT, 'services')])) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/addGaugeSource\(\s*\{\s*name:\s*'([a-z_]+)'/g)) names.add(m[1]!);
  }
  return names;
}

function sourceFiles(dirs: string[]): string[] {
  const out: string[] = [];
  for (const dir of dirs) {
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      const path = join(entry.parentPath, entry.name);
      if (entry.isFile() && entry.name.endsWith('.ts') && !/node_modules|dist|test/.test(path))
        out.push(path);
    }
  }
  return out;
}

describe('Grafana provisioning', () => {
  const datasources = parseYaml(
    readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
  ) as { datasources: { uid: string; type: string; url: string }[] };
  const providers = parseYaml(
    readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/tasks.yml'), 'utf8'),
  ) as { providers: { options: { path: string } }[] };
  const dashboards = dashboardFiles();

  it('points the datasource at the compose Prometheus and loads the mounted dashboards', () => {
    expect(datasources.datasources).toEqual([
      expect.objectContaining({
        uid: 'prometheus',
        type: 'prometheus',
        url: 'http://prometheus:9090',
      }),
    ]);
    expect(providers.providers.map((p) => p.options.path)).toEqual(['/var/lib/grafana/dashboards']);
    expect(dashboards).toEqual(['task-platform.json']);
  });

  it('reads the PromQL metric names of an expression', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{outcome!="x",q=~"b{2}"}[5m]))) / on (job) c',
      ),
    ).toEqual(['a_bucket', 'c']);
  });

  it.each(dashboards)('%s: every panel queries only metrics the services export', (file) => {
    const exported = exportedMetricNames();
    const unknown: string[] = [];
    const queries = queriesOf(file);
    expect(queries.length).toBeGreaterThan(0);
    for (const { panel, expr } of queries) {
      const names = metricNamesIn(expr);
      expect([panel, names.length > 0]).toEqual([panel, true]);
      for (const name of names) if (!exported.has(name)) unknown.push(`${panel}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it.each(dashboards)(
    '%s: has the throughput, latency, failure, retry, queue and worker panels',
    (file) => {
      const panels = panelsOf(file).filter((p) => p.type !== 'row');
      for (const p of panels) expect([p.title, p.datasource?.uid]).toEqual([p.title, 'prometheus']);
      const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
      expect(exprs).toContain('rate(tasks_worker_tasks_finished_total');
      for (const q of ['0.5', '0.95', '0.99'])
        expect(exprs).toContain(
          `histogram_quantile(${q}, sum by (le) (rate(tasks_worker_task_duration_seconds_bucket`,
        );
      expect(exprs).toContain('outcome="failed"');
      expect(exprs).toContain('outcome="retried"');
      expect(exprs).toContain('tasks_queue_messages');
      expect(exprs).toContain('tasks_queue_consumers');
      expect(exprs).toContain('tasks_worker_tasks_active');
    },
  );
});
