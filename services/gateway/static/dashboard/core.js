/*
 * What every view shares: elements built from text (never markup), calls to the gateway with
 * the operator's key as a header, task streams read with fetch (an EventSource cannot send the
 * key), and a few formatters. Plain browser modules, no build step.
 */

export const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
export const STATES = ['PENDING', 'STARTED', 'PROGRESS', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];
/** Task types by routing key, and the API name a task of that type is submitted with. */
export const TYPES = {
  'task.data.process': 'process',
  'task.email.send': 'email',
  'task.report.generate': 'report',
  'task.maintenance.cleanup': 'cleanup',
};

/** The operator's API key, for this tab only (docs/SECURITY.md); none in the keyless mode. */
const API_KEY_STORAGE = 'task-platform.dashboard.api-key';

export function apiKey() {
  try {
    return sessionStorage.getItem(API_KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

export function setApiKey(key) {
  try {
    if (key) sessionStorage.setItem(API_KEY_STORAGE, key);
    else sessionStorage.removeItem(API_KEY_STORAGE);
  } catch {
    // storage disabled: nothing to keep it in
  }
}

export const $ = (id) => document.getElementById(id);

/** An element with text content and attributes; never parses markup. */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(options)) {
    // false leaves a boolean attribute (checked, disabled) out; data values are strings.
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'className') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** An SVG element with attributes (the workflow graph). */
export function svg(tag, attributes = {}, children = []) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

export function button(text, attributes = {}) {
  return el('button', { type: 'button', text, ...attributes });
}

export function stateBadge(status) {
  return el('span', {
    className: 'state',
    'data-status': status || 'unknown',
    text: status || '…',
  });
}

export function time(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleTimeString();
}

export function dateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function duration(seconds) {
  if (typeof seconds !== 'number') return '';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  if (apiKey()) headers.authorization = `Bearer ${apiKey()}`;
  return headers;
}

/** An error the gateway answered, with its status. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function describeDetail(detail) {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail.map((issue) => `${(issue.loc || []).join('.')}: ${issue.msg}`).join('; ');
  }
  return JSON.stringify(detail);
}

export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: authHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) {
    const detail = data && typeof data === 'object' ? data.detail : data;
    throw new ApiError(response.status, `${response.status}: ${describeDetail(detail)}`);
  }
  return data;
}

/** Shows what an action did (or why it failed) in the page's status line, read out politely. */
export function announce(message) {
  $('status-line').textContent = message;
}

/**
 * Follows GET /tasks/{id}/events until the task's terminal state or `signal` aborts, calling
 * `onStatus` with each status. Server-sent events read from a fetch body, so the key travels as
 * a header; a stream the server ends early (its lifetime cap) is opened again.
 */
export async function followTask(id, onStatus, signal) {
  let lastEventId = '';
  while (!signal.aborted) {
    const headers = authHeaders({ accept: 'text/event-stream' });
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const response = await fetch(`/tasks/${encodeURIComponent(id)}/events`, { headers, signal });
    if (response.status === 204) return;
    if (!response.ok) throw new ApiError(response.status, `${response.status}: stream refused`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (frame.id) lastEventId = frame.id;
        if (frame.event === 'end') {
          void reader.cancel();
          return;
        }
        if (frame.event === 'status' && frame.data) onStatus(JSON.parse(frame.data));
      }
    }
  }
}

function parseFrame(text) {
  const frame = { event: 'message', data: '', id: '' };
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') frame.event = value;
    else if (field === 'data') frame.data += (frame.data ? '\n' : '') + value;
    else if (field === 'id') frame.id = value;
  }
  return frame;
}

/**
 * Replaces `container`'s children and keeps the keyboard focus on the element with the same
 * `data-key` (a poll that redraws a table must not throw the focus back to the page's top, nor
 * drop what is being typed).
 */
export function replaceKeepingFocus(container, children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  container.replaceChildren(...children);
  if (key) {
    const again = [...container.querySelectorAll('[data-key]')].find(
      (node) => node.getAttribute('data-key') === key,
    );
    if (!again) return;
    // What is being typed survives the redraw too.
    if (active instanceof HTMLInputElement) again.value = active.value;
    again.focus();
  }
}

/** Calls `task` now and every `ms` until the returned stop function is called. */
export function every(ms, task) {
  let stopped = false;
  let timer;
  const run = async () => {
    try {
      await task();
    } catch (err) {
      announce(err.message);
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Payloads of tasks submitted from this page, so "run again" can offer them. */
const PAYLOADS_STORAGE = 'task-platform.dashboard.payloads';
const MAX_PAYLOADS = 200;

export function rememberPayload(id, type, payload) {
  try {
    const saved = JSON.parse(localStorage.getItem(PAYLOADS_STORAGE) || '[]');
    saved.push([id, type, payload]);
    localStorage.setItem(PAYLOADS_STORAGE, JSON.stringify(saved.slice(-MAX_PAYLOADS)));
  } catch {
    // storage full or disabled: run again starts from an empty body
  }
}

export function rememberedPayload(id) {
  try {
    const saved = JSON.parse(localStorage.getItem(PAYLOADS_STORAGE) || '[]');
    const found = saved.find((entry) => Array.isArray(entry) && entry[0] === id);
    return found ? found[2] : undefined;
  } catch {
    return undefined;
  }
}
