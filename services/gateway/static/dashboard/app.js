/*
 * The dashboard's entry: the views chosen by the URL's fragment (#/tasks, #/task/<id>,
 * #/workers, #/queues, #/schedules, #/dead-letters, #/workflows, #/charts), the API key form and
 * the health badge. Each view module exports `show(param)` and `hide()`; only the shown view
 * polls or streams.
 */
import { $, api, apiKey, every, setApiKey } from './core.js';
import * as charts from './views/charts.js';
import * as deadLetters from './views/dead-letters.js';
import * as queues from './views/queues.js';
import * as schedules from './views/schedules.js';
import * as taskDetail from './views/task-detail.js';
import * as tasks from './views/tasks.js';
import * as workers from './views/workers.js';
import * as workflows from './views/workflows.js';

const VIEWS = {
  tasks,
  task: taskDetail,
  workers,
  queues,
  schedules,
  'dead-letters': deadLetters,
  workflows,
  charts,
};
/** The nav entry that stands for a view (a task's detail belongs to Tasks). */
const NAV_OF = { task: 'tasks' };

let current = null;

function route() {
  const [, name = 'tasks', ...rest] = location.hash.split('/');
  const view = VIEWS[name] ? name : 'tasks';
  const param = rest.length ? decodeURIComponent(rest.join('/')) : '';
  if (current) VIEWS[current].hide();
  for (const section of document.querySelectorAll('section.view')) {
    section.hidden = section.id !== `view-${view}`;
  }
  for (const link of document.querySelectorAll('#nav a[data-view]')) {
    if (link.getAttribute('data-view') === (NAV_OF[view] || view)) {
      link.setAttribute('aria-current', 'page');
    } else link.removeAttribute('aria-current');
  }
  const changed = current !== null;
  current = view;
  VIEWS[view].show(param);
  // After a navigation the keyboard continues in the new view, not at the page's top.
  if (changed) $(`view-${view}`).querySelector('h2').focus();
}

async function refreshHealth() {
  const health = await api('GET', '/health');
  const badge = $('health');
  badge.textContent = `${health.status} · ${health.workers} worker${health.workers === 1 ? '' : 's'} · broker ${health.broker || '?'}`;
  badge.setAttribute('data-status', health.status);
}

function wireApiKey() {
  $('api-key').value = apiKey();
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    setApiKey($('api-key').value.trim());
    route();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  wireApiKey();
  for (const view of Object.values(VIEWS)) view.init?.();
  window.addEventListener('hashchange', route);
  route();
  every(5000, refreshHealth);
});
