/*
 * Queues: messages ready and consumers (GET /queues), and from the gateway's series
 * (GET /metrics/series) what the workers hold unacked, tasks done per second and how fast the
 * ready count changes, over the last minute. Delay levels are summed into one row.
 */
import { $, api, el, every } from '../core.js';

const REFRESH_MS = 5000;
const RATE_WINDOW_MS = 60_000;
const DELAY_LEVEL = /(^|\.)tasks\.delay\.\d+$/;
let stopPolling = null;

/** Samples of the last minute, or none when the series is off or not readable. */
async function recentSamples() {
  try {
    const { samples } = await api('GET', '/metrics/series');
    const since = Date.now() - RATE_WINDOW_MS;
    return samples.filter((s) => Date.parse(s.at) >= since);
  } catch {
    return [];
  }
}

/** The service whose work queue `name` is (`<prefix.>service.tasks`), if it is one. */
function serviceOf(name) {
  const match = /([^.]+)\.tasks$/.exec(name);
  return match ? match[1] : null;
}

function rates(name, samples) {
  if (samples.length < 2) return { done: '', change: '' };
  const first = samples[0];
  const last = samples[samples.length - 1];
  const seconds = (Date.parse(last.at) - Date.parse(first.at)) / 1000 || 1;
  const service = serviceOf(name);
  const done = service
    ? samples.slice(1).reduce((sum, s) => sum + (s.finished_by_service[service] || 0), 0) / seconds
    : null;
  const ready = (sample) => sample.queues.find((q) => q.name === name)?.ready;
  const before = ready(first);
  const after = ready(last);
  return {
    done: done === null ? '' : done.toFixed(1),
    change:
      before === undefined || after === undefined
        ? ''
        : (((after - before) / seconds) * 60).toFixed(0),
  };
}

async function refresh() {
  const [{ queues }, samples] = await Promise.all([api('GET', '/queues'), recentSamples()]);
  const latest = samples[samples.length - 1];
  const unacked = (name) => latest?.queues.find((q) => q.name === name)?.unacked ?? '';
  const rows = queues
    .filter((q) => !DELAY_LEVEL.test(q.name))
    .map((q) => {
      const rate = rates(q.name, samples);
      return el('tr', { 'data-queue': q.name }, [
        el('td', {}, [el('code', { text: q.name })]),
        el('td', { className: 'number', 'data-field': 'ready', text: q.messages }),
        el('td', { className: 'number', 'data-field': 'unacked', text: unacked(q.name) }),
        el('td', { className: 'number', 'data-field': 'consumers', text: q.consumers }),
        el('td', { className: 'number', 'data-field': 'done-rate', text: rate.done }),
        el('td', { className: 'number', 'data-field': 'ready-change', text: rate.change }),
      ]);
    });
  const delay = queues.filter((q) => DELAY_LEVEL.test(q.name));
  if (delay.length > 0) {
    rows.push(
      el('tr', { 'data-queue': 'delay-levels' }, [
        el('td', { text: `delay levels (${delay.length} queues)` }),
        el('td', { className: 'number', text: delay.reduce((sum, q) => sum + q.messages, 0) }),
        el('td'),
        el('td'),
        el('td'),
        el('td'),
      ]),
    );
  }
  $('queues').tBodies[0].replaceChildren(...rows);
}

export function show() {
  stopPolling?.();
  stopPolling = every(REFRESH_MS, refresh);
}

export function hide() {
  stopPolling?.();
  stopPolling = null;
}
