/*
 * Charts of the last hour from the gateway's series (GET /metrics/series): throughput, failures
 * and retries, run time percentiles and queue depth, drawn with Chart.js (served by the gateway
 * from its own dependency, loaded by index.html as `window.Chart`). Read again every interval.
 */
import { $, api, every } from '../core.js';

const COLORS = {
  ok: '#2f855a',
  failed: '#c53030',
  retried: '#b7791f',
  p50: '#2b6cb0',
  p95: '#6b46c1',
  max: '#718096',
  depth: '#2c7a7b',
};
let stopPolling = null;
let charts = null;
let intervalMs = 10_000;

function line(canvas, datasets, yTitle) {
  return new window.Chart(canvas, {
    type: 'line',
    data: {
      labels: [],
      datasets: datasets.map(([label, color]) => ({
        label,
        data: [],
        borderColor: color,
        backgroundColor: color,
        pointRadius: 0,
        borderWidth: 2,
        tension: 0.2,
        spanGaps: false,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 8 } },
        y: { beginAtZero: true, title: { display: true, text: yTitle } },
      },
    },
  });
}

function create() {
  return {
    throughput: line($('chart-throughput'), [['finished / min', COLORS.ok]], 'tasks / min'),
    failures: line(
      $('chart-failures'),
      [
        ['failed / min', COLORS.failed],
        ['retried / min', COLORS.retried],
      ],
      'tasks / min',
    ),
    latency: line(
      $('chart-latency'),
      [
        ['p50', COLORS.p50],
        ['p95', COLORS.p95],
        ['max', COLORS.max],
      ],
      'ms',
    ),
    depth: line($('chart-depth'), [['ready', COLORS.depth]], 'messages'),
  };
}

function set(chart, labels, ...series) {
  chart.data.labels = labels;
  series.forEach((data, i) => {
    chart.data.datasets[i].data = data;
  });
  chart.update('none');
}

async function refresh() {
  const series = await api('GET', '/metrics/series');
  const samples = series.samples;
  const perMinute = 60 / series.interval_s;
  // Seconds too while the samples span only a few minutes.
  const span = samples.length ? Date.parse(samples.at(-1).at) - Date.parse(samples[0].at) : 0;
  const format =
    span < 600_000
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
      : { hour: '2-digit', minute: '2-digit' };
  const labels = samples.map((s) => new Date(s.at).toLocaleTimeString([], format));
  set(
    charts.throughput,
    labels,
    samples.map((s) => (s.succeeded + s.failed) * perMinute),
  );
  set(
    charts.failures,
    labels,
    samples.map((s) => s.failed * perMinute),
    samples.map((s) => s.retried * perMinute),
  );
  set(
    charts.latency,
    labels,
    samples.map((s) => s.latency_ms?.p50 ?? null),
    samples.map((s) => s.latency_ms?.p95 ?? null),
    samples.map((s) => s.latency_ms?.max ?? null),
  );
  set(
    charts.depth,
    labels,
    samples.map((s) => s.queue_depth),
  );
  const finished = samples.reduce((sum, s) => sum + s.succeeded + s.failed, 0);
  $('view-charts').setAttribute('data-samples', String(samples.length));
  $('view-charts').setAttribute('data-finished', String(finished));
  $('charts-note').textContent = samples.length
    ? `${samples.length} samples of ${series.interval_s} s from this gateway; ${finished} tasks finished in them.`
    : `No sample yet: the gateway takes one every ${series.interval_s} s.`;
  intervalMs = series.interval_s * 1000;
}

export function show() {
  if (!window.Chart) {
    $('charts-note').textContent = 'Chart.js did not load.';
    return;
  }
  charts ??= create();
  stopPolling?.();
  stopPolling = every(Math.min(intervalMs, 5000), refresh);
}

export function hide() {
  stopPolling?.();
  stopPolling = null;
}
