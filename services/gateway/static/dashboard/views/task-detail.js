/*
 * One task: its facts, the timeline of its state events (GET /tasks/{id}/history), payload,
 * result and error, followed live over its event stream; actions cancel, replay (of its dead
 * letter) and run again (the submit form filled with its type and payload).
 */
import {
  $,
  announce,
  api,
  ApiError,
  dateTime,
  el,
  followTask,
  rememberedPayload,
  stateBadge,
  TERMINAL,
  time,
  TYPES,
} from '../core.js';
import { prefill } from './tasks.js';

let taskId = '';
let view = null;
let events = [];
let payload;
let controller = null;
/** Counts shows and hides: a read that answers after the next one changes nothing. */
let showing = 0;

const json = (value) =>
  value === undefined || value === null ? '—' : JSON.stringify(value, null, 2);

function fact(term, value) {
  return [el('dt', { text: term }), el('dd', { text: value ?? '' })];
}

function render() {
  $('detail-id').textContent = taskId;
  const status = view ? view.status : null;
  $('detail-facts').replaceChildren(
    el('dt', { text: 'State' }),
    el('dd', {}, [stateBadge(status)]),
    ...fact('Type', view?.task_type),
    ...fact('Attempt', view?.attempt),
    ...fact('Worker', view?.worker),
    ...fact('Priority', view?.priority),
    ...fact('Created', dateTime(view?.created_at)),
    ...fact('Started', dateTime(view?.started_at)),
    ...fact('Finished', dateTime(view?.completed_at)),
  );
  $('detail-timeline').replaceChildren(
    ...events.map((event) =>
      el('li', { 'data-state': event.state }, [
        el('time', { datetime: event.time, text: time(event.time) }),
        ' ',
        stateBadge(event.state),
        el('span', {
          className: 'muted',
          text: ` attempt ${event.attempt ?? ''}${event.worker ? ` · ${event.worker}` : ''}`,
        }),
        event.error ? el('span', { className: 'error', text: ` ${event.error}` }) : null,
      ]),
    ),
  );
  $('detail-payload').textContent =
    payload === undefined ? 'not kept (submitted elsewhere)' : json(payload);
  $('detail-result').textContent = json(view?.status === 'PROGRESS' ? view.result : view?.result);
  $('detail-failure').textContent = view?.error || '—';
  $('detail-cancel').hidden = !view || TERMINAL.has(status);
  $('detail-replay').hidden = status !== 'FAILURE';
  $('detail-again').hidden = !view || !TYPES[view.task_type];
}

/** A live status as a timeline entry, unless the history already has that state and attempt. */
function addLive(status) {
  view = { ...view, ...status };
  const seen = events.some((e) => e.state === status.status && e.attempt === status.attempt);
  if (!seen && status.status !== 'PROGRESS') {
    events.push({
      state: status.status,
      time: status.updated_at,
      attempt: status.attempt,
      worker: status.worker,
      error: status.error || undefined,
    });
  }
  render();
}

async function loadHistory() {
  try {
    const history = await api('GET', `/tasks/${encodeURIComponent(taskId)}/history`);
    events = history.events;
    const trace = $('detail-trace');
    trace.hidden = !history.trace_url;
    if (history.trace_url) {
      trace.href = history.trace_url;
      trace.textContent = `Trace ${history.trace_id}`;
    }
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
}

async function load() {
  const at = showing;
  $('detail-error').hidden = true;
  try {
    const record = await api('GET', `/tasks/${encodeURIComponent(taskId)}`);
    if (at !== showing) return;
    view = record;
    await loadHistory();
  } catch (err) {
    if (at !== showing) return;
    $('detail-error').hidden = false;
    $('detail-error').textContent =
      err instanceof ApiError && err.status === 404
        ? 'unknown task id (never issued, or expired)'
        : err.message;
  }
  if (at !== showing) return; // another task or view is shown now: no stream for this one
  render();
  if (view && !TERMINAL.has(view.status)) follow();
}

function follow() {
  controller?.abort();
  const mine = new AbortController();
  controller = mine;
  followTask(taskId, addLive, mine.signal)
    .then(() => (mine.signal.aborted ? undefined : loadHistory().then(render)))
    .catch(() => undefined);
}

export function init() {
  $('detail-cancel').addEventListener('click', async () => {
    try {
      announce((await api('DELETE', `/tasks/${encodeURIComponent(taskId)}`)).message);
      await load();
    } catch (err) {
      announce(`cancel failed: ${err.message}`);
    }
  });
  $('detail-replay').addEventListener('click', async () => {
    try {
      const replayed = await api('POST', `/dead-letters/${encodeURIComponent(taskId)}/replay`);
      announce(`replayed ${replayed.task_id} (attempt ${replayed.attempt})`);
      await load();
    } catch (err) {
      announce(`replay failed: ${err.message}`);
    }
  });
  $('detail-again').addEventListener('click', () => {
    prefill(TYPES[view.task_type], payload ?? {});
    // After the router has shown the view (it moves the focus to its heading).
    window.addEventListener('hashchange', () => $('submit-body').focus(), { once: true });
    location.hash = '#/tasks';
    announce('Check the body, then submit it as a new task');
  });
}

export function show(id) {
  showing += 1;
  taskId = id;
  view = null;
  events = [];
  payload = rememberedPayload(id);
  render();
  void load();
}

export function hide() {
  showing += 1;
  controller?.abort();
  controller = null;
}
