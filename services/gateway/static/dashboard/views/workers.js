/*
 * Workers: every replica live (GET /workers, read every few seconds) and each service's
 * controls: pause / resume (every replica stops taking new tasks), concurrency, and drain of one
 * replica (it finishes what it holds and exits).
 */
import {
  $,
  announce,
  api,
  button,
  duration,
  el,
  every,
  replaceKeepingFocus,
  stateBadge,
  time,
} from '../core.js';

const REFRESH_MS = 3000;
let stopPolling = null;

function workerState(worker) {
  if (!worker.online) return 'offline';
  if (worker.draining) return 'draining';
  if (worker.paused) return 'paused';
  return 'online';
}

function serviceRow(service) {
  const name = service.service;
  const input = el('input', {
    type: 'number',
    min: 1,
    value: service.concurrency ?? '',
    placeholder: 'own',
    size: 4,
    id: `concurrency-${name}`,
    'data-key': `concurrency:${name}`,
    'aria-label': `Concurrency of ${name}`,
  });
  return el('tr', { 'data-service': name }, [
    el('td', {}, [el('code', { text: name })]),
    el('td', {}, [stateBadge(service.paused ? 'paused' : 'running')]),
    el('td', {}, [
      el('form', { className: 'inline', 'data-action': 'concurrency', 'data-service': name }, [
        input,
        el('button', { type: 'submit', 'data-key': `set:${name}`, text: 'Set' }),
      ]),
    ]),
    el('td', {}, [
      service.paused
        ? button('Resume', {
            'data-action': 'resume',
            'data-service': name,
            'data-key': `resume:${name}`,
          })
        : button('Pause', {
            'data-action': 'pause',
            'data-service': name,
            'data-key': `pause:${name}`,
            className: 'danger',
          }),
    ]),
  ]);
}

function workerRow(worker) {
  const state = workerState(worker);
  const running = worker.current_tasks || [];
  return el('tr', { 'data-worker': worker.instance }, [
    el('td', {}, [el('code', { text: worker.instance })]),
    el('td', { text: worker.service }),
    el('td', {}, [stateBadge(state)]),
    el(
      'td',
      {},
      running.length
        ? running.map((id) =>
            el('a', {
              href: `#/task/${encodeURIComponent(id)}`,
              className: 'chip',
              title: id,
              text: id.slice(0, 8),
            }),
          )
        : [el('span', { className: 'muted', text: `0/${worker.concurrency ?? '?'}` })],
    ),
    el('td', { text: worker.processed ?? '' }),
    el('td', { text: worker.failed ?? '' }),
    el('td', { text: duration(worker.uptime_s) }),
    el('td', { text: time(worker.last_seen) }),
    el('td', {}, [
      worker.online && !worker.draining
        ? button('Drain', {
            'data-action': 'drain',
            'data-instance': worker.instance,
            'data-key': `drain:${worker.instance}`,
            'aria-label': `Drain ${worker.instance}`,
          })
        : null,
    ]),
  ]);
}

async function refresh() {
  let body;
  try {
    body = await api('GET', '/workers');
  } catch (err) {
    $('workers-error').hidden = false;
    $('workers-error').textContent = `The workers could not be read (${err.message}).`;
    return;
  }
  $('workers-error').hidden = true;
  const workers = [...body.workers].sort((a, b) => a.instance.localeCompare(b.instance));
  const services = [...body.services].sort((a, b) => a.service.localeCompare(b.service));
  replaceKeepingFocus($('services').tBodies[0], services.map(serviceRow));
  replaceKeepingFocus($('workers').tBodies[0], workers.map(workerRow));
}

async function act(description, call) {
  try {
    await call();
    announce(description);
  } catch (err) {
    announce(`${description} failed: ${err.message}`);
  }
  await refresh();
}

export function init() {
  $('services').addEventListener('click', (event) => {
    const target = event.target.closest('button[data-action]');
    if (!target) return;
    const action = target.getAttribute('data-action');
    if (action !== 'pause' && action !== 'resume') return;
    const service = target.getAttribute('data-service');
    void act(`${action}d ${service}`, () =>
      api('POST', `/workers/${encodeURIComponent(service)}/${action}`),
    );
  });
  $('services').addEventListener('submit', (event) => {
    const form = event.target.closest('form[data-action="concurrency"]');
    if (!form) return;
    event.preventDefault();
    const service = form.getAttribute('data-service');
    const concurrency = Number(form.querySelector('input').value);
    void act(`${service} concurrency set to ${concurrency}`, () =>
      api('PATCH', `/workers/${encodeURIComponent(service)}`, { concurrency }),
    );
  });
  $('workers').addEventListener('click', (event) => {
    const target = event.target.closest('button[data-action="drain"]');
    if (!target) return;
    const instance = target.getAttribute('data-instance');
    void act(`draining ${instance}`, () =>
      api('POST', `/workers/${encodeURIComponent(instance)}/drain`),
    );
  });
}

export function show() {
  stopPolling?.();
  stopPolling = every(REFRESH_MS, refresh);
}

export function hide() {
  stopPolling?.();
  stopPolling = null;
}
