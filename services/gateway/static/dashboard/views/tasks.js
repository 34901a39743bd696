/*
 * Tasks: the history (GET /tasks) filtered by state, type, time and a search, a page at a time
 * (the server's cursor; earlier cursors kept for "previous"), newest first. The first page is
 * read again every few seconds; tasks in flight on screen are followed over their event streams,
 * a few at once. Submitting a task from here is kept too.
 */
import {
  $,
  announce,
  api,
  button,
  el,
  every,
  followTask,
  rememberPayload,
  replaceKeepingFocus,
  STATES,
  stateBadge,
  TERMINAL,
  time,
  TYPES,
} from '../core.js';

const PAGE_SIZE = 25;
const REFRESH_MS = 5000;
/** Streams at once: a browser keeps about six connections per origin, the views need some. */
const MAX_STREAMS = 3;
const EXAMPLES = {
  process: { data: { records: [{ amount: 3 }, { amount: 5 }] }, description: 'from the dashboard' },
  email: { email: 'user@example.com', subject: 'Hello', body: 'Sent from the dashboard' },
  report: { report_type: 'daily' },
};

/** Cursors of the pages before the shown one ('' is the first page). */
let cursors = [];
let cursor = '';
let nextCursor = null;
/** The shown rows' tasks by id. */
let shown = new Map();
/** Open streams by task id. */
const streams = new Map();
let stopPolling = null;
/** Counts shows and hides: a read that answers after the next one changes nothing. */
let showing = 0;

function query() {
  const params = new URLSearchParams();
  const state = $('filter-state').value;
  const type = $('filter-type').value;
  const since = $('filter-since').value;
  const q = $('filter-q').value.trim();
  if (state) params.append('state', state);
  if (type) params.append('type', type);
  if (since) params.set('since', new Date(Date.now() - Number(since) * 1000).toISOString());
  if (q) params.set('q', q);
  params.set('limit', String(PAGE_SIZE));
  if (cursor) params.set('cursor', cursor);
  return params;
}

async function load() {
  const at = showing;
  let page;
  try {
    page = await api('GET', `/tasks?${query()}`);
  } catch (err) {
    if (at !== showing) return;
    $('tasks-error').hidden = false;
    $('tasks-error').textContent = `The task history could not be read (${err.message}).`;
    return;
  }
  if (at !== showing) return; // another view is shown now: no streams for this read
  $('tasks-error').hidden = true;
  nextCursor = page.next_cursor;
  shown = new Map(page.tasks.map((task) => [task.task_id, task]));
  render();
  followInFlight();
}

function progressCell(task) {
  const result = task.result;
  if (task.status === 'PROGRESS' && result && typeof result.current === 'number') {
    return el('span', {}, [
      el('progress', { value: result.current, max: result.total || 1, 'aria-label': 'progress' }),
      el('span', { className: 'muted', text: ` ${result.current}/${result.total}` }),
    ]);
  }
  if (task.error) return el('span', { className: 'error', text: task.error });
  return el('span', { className: 'muted', text: task.status === 'SUCCESS' ? 'done' : '' });
}

function row(task) {
  const actions = el('td');
  if (!TERMINAL.has(task.status)) {
    actions.append(
      button('Cancel', {
        className: 'danger',
        'data-action': 'cancel',
        'data-task-id': task.task_id,
        'data-key': `cancel:${task.task_id}`,
        'aria-label': `Cancel task ${task.task_id}`,
      }),
    );
  }
  return el('tr', { className: 'task', 'data-task-id': task.task_id, 'data-status': task.status }, [
    el('td', {}, [
      el('a', {
        href: `#/task/${encodeURIComponent(task.task_id)}`,
        title: task.task_id,
        'data-key': `open:${task.task_id}`,
        text: task.task_id.slice(0, 8),
      }),
    ]),
    el('td', { text: task.task_type || '' }),
    el('td', {}, [stateBadge(task.status)]),
    el('td', {}, [progressCell(task)]),
    el('td', { text: task.attempt ?? '' }),
    el('td', { text: time(task.created_at) }),
    el('td', { text: time(task.updated_at) }),
    actions,
  ]);
}

function render() {
  replaceKeepingFocus($('tasks').tBodies[0], [...shown.values()].map(row));
  $('tasks-empty').hidden = shown.size > 0;
  $('tasks-page').textContent = `page ${cursors.length + 1}`;
  $('tasks-prev').disabled = cursors.length === 0;
  $('tasks-first').disabled = cursors.length === 0;
  $('tasks-next').disabled = !nextCursor;
}

/** Opens streams for shown tasks in flight (up to MAX_STREAMS); closes those no longer shown. */
function followInFlight() {
  for (const [id, controller] of streams) {
    const task = shown.get(id);
    if (!task || TERMINAL.has(task.status)) {
      controller.abort();
      streams.delete(id);
    }
  }
  for (const task of shown.values()) {
    if (streams.size >= MAX_STREAMS) break;
    if (TERMINAL.has(task.status) || streams.has(task.task_id)) continue;
    const controller = new AbortController();
    streams.set(task.task_id, controller);
    followTask(task.task_id, (status) => update(status), controller.signal)
      .catch(() => undefined)
      .finally(() => {
        if (streams.get(task.task_id) === controller) streams.delete(task.task_id);
      });
  }
}

function update(status) {
  const task = shown.get(status.task_id);
  if (!task) return;
  shown.set(status.task_id, { ...task, ...status });
  render();
}

function stopStreams() {
  for (const controller of streams.values()) controller.abort();
  streams.clear();
}

function restartPolling() {
  stopPolling?.();
  // Only the first page changes by itself; a later one is read once.
  stopPolling = cursor ? (void load(), null) : every(REFRESH_MS, load);
}

function goTo(newCursor, history) {
  cursors = history;
  cursor = newCursor;
  restartPolling();
}

export function init() {
  for (const state of STATES) $('filter-state').append(el('option', { text: state }));
  for (const [key, name] of Object.entries(TYPES)) {
    $('filter-type').append(el('option', { value: key, text: name }));
  }
  $('tasks-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    goTo('', []);
  });
  for (const id of ['filter-state', 'filter-type', 'filter-since']) {
    $(id).addEventListener('change', () => goTo('', []));
  }
  $('tasks-next').addEventListener('click', () => {
    if (nextCursor) goTo(nextCursor, [...cursors, cursor]);
  });
  $('tasks-prev').addEventListener('click', () => {
    if (cursors.length) goTo(cursors[cursors.length - 1], cursors.slice(0, -1));
  });
  $('tasks-first').addEventListener('click', () => goTo('', []));

  $('tasks').addEventListener('click', async (event) => {
    const target = event.target.closest('button[data-action="cancel"]');
    if (!target) return;
    const id = target.getAttribute('data-task-id');
    try {
      announce((await api('DELETE', `/tasks/${encodeURIComponent(id)}`)).message);
      await load();
    } catch (err) {
      announce(`cancel failed: ${err.message}`);
    }
  });

  const exampleBody = () => {
    $('submit-body').value = JSON.stringify(EXAMPLES[$('submit-type').value], null, 2);
  };
  $('submit-type').addEventListener('change', exampleBody);
  exampleBody();
  $('submit-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = $('submit-type').value;
    let body;
    try {
      body = JSON.parse($('submit-body').value || '{}');
    } catch (err) {
      announce(`invalid JSON: ${err.message}`);
      return;
    }
    try {
      const created = await api('POST', `/tasks/${kind}`, body);
      rememberPayload(created.task_id, kind, body);
      announce(`queued ${created.task_id}`);
      goTo('', []);
    } catch (err) {
      announce(`refused: ${err.message}`);
    }
  });
  $('open-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('open-id').value.trim();
    if (id) location.hash = `#/task/${encodeURIComponent(id)}`;
  });
}

/** Opens the submit form with a type and body filled in (the detail view's "run again"). */
export function prefill(kind, payload) {
  $('submit-type').value = kind;
  $('submit-body').value = JSON.stringify(payload, null, 2);
}

export function show() {
  showing += 1;
  restartPolling();
}

export function hide() {
  showing += 1;
  stopPolling?.();
  stopPolling = null;
  stopStreams();
}
