/*
 * The dashboard's script: plain browser JavaScript, no build step, no dependencies.
 * Everything shown comes from the gateway's public API. Values are always written with
 * textContent (never innerHTML), so nothing a task carries can become markup; the page's
 * Content-Security-Policy allows no inline script anyway.
 *
 * Tasks: the ones submitted, followed, replayed or fired here (kept in localStorage), each
 * followed live through GET /tasks/{id}/events. Workers, queues, dead letters and schedules are
 * read every few seconds.
 */
'use strict';

(() => {
  const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
  const STORAGE_KEY = 'task-platform.dashboard.tasks';
  /** The operator's API key, for this tab only (docs/SECURITY.md); none in the keyless mode. */
  const API_KEY_STORAGE = 'task-platform.dashboard.api-key';

  function apiKey() {
    try {
      return sessionStorage.getItem(API_KEY_STORAGE) || '';
    } catch {
      return '';
    }
  }
  const MAX_TASKS = 200;
  const REFRESH_MS = 3000;
  /**
   * Streams open at once. A browser allows about six HTTP/1.1 connections per origin, and the
   * panels need some: further tasks wait for a free stream and are read every few seconds.
   */
  const MAX_STREAMS = 4;
  const TYPES = {
    process: 'task.data.process',
    email: 'task.email.send',
    report: 'task.report.generate',
  };
  const EXAMPLES = {
    process: {
      data: { records: [{ amount: 3 }, { amount: 5 }] },
      description: 'from the dashboard',
    },
    email: { email: 'user@example.com', subject: 'Hello', body: 'Sent from the dashboard' },
    report: { report_type: 'daily' },
  };

  /** id → { id, type, status, view, history: [{ status, at, view }], source, error } */
  const tasks = new Map();
  let selected = null;
  let openStreams = 0;
  /** Tasks waiting for a free stream, oldest first. */
  const waiting = [];

  const $ = (id) => document.getElementById(id);

  /** An element with text content and attributes; never parses markup. */
  function el(tag, options = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined || value === null) continue;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'className') node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) node.append(child);
    return node;
  }

  function stateBadge(status) {
    return el('span', {
      className: 'state',
      'data-status': status || 'unknown',
      text: status || '…',
    });
  }

  function time(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleTimeString();
  }

  async function api(method, path, body) {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    if (apiKey()) headers.authorization = `Bearer ${apiKey()}`;
    const response = await fetch(path, {
      method,
      headers,
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
      throw new Error(
        `${response.status}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`,
      );
    }
    return data;
  }

  // ---- tasks ------------------------------------------------------------------------------

  function save() {
    const kept = [...tasks.values()].slice(-MAX_TASKS).map((t) => ({ id: t.id, type: t.type }));
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(kept));
    } catch {
      // storage full or disabled: the list lives for this page only
    }
  }

  function track(id, type) {
    let task = tasks.get(id);
    if (!task) {
      task = {
        id,
        type: type || null,
        status: null,
        view: null,
        history: [],
        source: null,
        error: null,
      };
      tasks.set(id, task);
      while (tasks.size > MAX_TASKS) tasks.delete(tasks.keys().next().value);
      save();
    }
    follow(task);
    renderTasks();
    return task;
  }

  function show(task, view) {
    const last = task.history[task.history.length - 1];
    if (last && last.view.status === view.status && last.view.updated_at === view.updated_at)
      return;
    task.view = view;
    task.status = view.status;
    task.type = view.task_type || task.type;
    task.error = null;
    task.history.push({ status: view.status, at: view.updated_at, view });
    renderTasks();
    if (selected === task.id) renderDetail();
  }

  /** Opens the task's event stream (its first event is the current state), or queues it. */
  function follow(task) {
    if (task.source || TERMINAL.has(task.status)) return;
    // An EventSource cannot send the key: with one, the task's state is polled instead.
    if (openStreams >= MAX_STREAMS || apiKey()) {
      if (!waiting.includes(task)) waiting.push(task);
      return;
    }
    const index = waiting.indexOf(task);
    if (index >= 0) waiting.splice(index, 1);
    const source = new EventSource(`/tasks/${encodeURIComponent(task.id)}/events`);
    task.source = source;
    openStreams += 1;
    const release = () => {
      if (task.source !== source) return;
      source.close();
      task.source = null;
      openStreams -= 1;
      const next = waiting.shift();
      if (next) follow(next);
    };
    source.addEventListener('status', (event) => show(task, JSON.parse(event.data)));
    // The server closes the stream after the terminal state; without close() the browser
    // would open it again.
    source.addEventListener('end', release);
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED) return; // reconnecting by itself
      release();
      if (!task.status) {
        task.error = 'unknown task id (never issued, or expired)';
        renderTasks();
      }
    });
  }

  /** Tasks still waiting for a stream: read their state instead. */
  async function refreshWaiting() {
    for (const task of waiting.slice(0, 10)) {
      try {
        show(task, await api('GET', `/tasks/${encodeURIComponent(task.id)}`));
      } catch (err) {
        task.error = err.message;
      }
      if (TERMINAL.has(task.status)) waiting.splice(waiting.indexOf(task), 1);
    }
  }

  function visibleTasks() {
    const state = $('filter-state').value;
    const type = $('filter-type').value;
    return [...tasks.values()]
      .filter((t) => (!state || t.status === state) && (!type || t.type === type))
      .reverse();
  }

  function progressCell(task) {
    const result = task.view && task.view.result;
    if (task.status === 'PROGRESS' && result && typeof result.current === 'number') {
      return el('span', {}, [
        el('progress', { value: result.current, max: result.total || 1 }),
        el('span', { className: 'muted', text: ` ${result.current}/${result.total}` }),
      ]);
    }
    if (task.error) return el('span', { className: 'error', text: task.error });
    if (task.view && task.view.error)
      return el('span', { className: 'error', text: task.view.error });
    return el('span', { className: 'muted', text: task.status === 'SUCCESS' ? 'done' : '' });
  }

  function renderTasks() {
    const body = $('tasks').tBodies[0];
    const rows = visibleTasks().map((task) => {
      const actions = el('td');
      if (task.status && !TERMINAL.has(task.status)) {
        actions.append(
          el('button', {
            type: 'button',
            className: 'danger',
            'data-action': 'cancel',
            'data-task-id': task.id,
            text: 'Cancel',
          }),
        );
      }
      return el(
        'tr',
        {
          className: `task${selected === task.id ? ' selected' : ''}`,
          'data-task-id': task.id,
          'data-status': task.status || '',
          'data-history': task.history.map((h) => h.status).join(','),
        },
        [
          el('td', {}, [el('code', { title: task.id, text: task.id.slice(0, 8) })]),
          el('td', { text: task.type || '' }),
          el('td', {}, [stateBadge(task.status)]),
          el('td', {}, [progressCell(task)]),
          el('td', { text: task.view ? task.view.attempt : '' }),
          el('td', { text: time(task.view && task.view.updated_at) }),
          actions,
        ],
      );
    });
    body.replaceChildren(...rows);
    $('tasks-empty').hidden = tasks.size > 0;
  }

  function renderDetail() {
    const task = selected && tasks.get(selected);
    $('detail-panel').hidden = !task;
    if (!task) return;
    $('detail-id').textContent = task.id;
    const error = task.error || (task.view && task.view.error);
    $('detail-error').hidden = !error;
    $('detail-error').textContent = error || '';
    $('detail-events').replaceChildren(
      ...task.history.map((h) => {
        const result = h.view.result;
        const note =
          h.status === 'PROGRESS' && result
            ? ` ${result.current}/${result.total}`
            : h.view.error
              ? ` ${h.view.error}`
              : '';
        return el('li', {}, [
          el('span', { className: 'muted', text: `${time(h.at)} ` }),
          stateBadge(h.status),
          el('span', { text: note }),
        ]);
      }),
    );
    $('detail-json').textContent = JSON.stringify(task.view, null, 2);
  }

  async function cancel(id) {
    try {
      const response = await api('DELETE', `/tasks/${encodeURIComponent(id)}`);
      $('submit-result').textContent = response.message;
    } catch (err) {
      $('submit-result').textContent = `cancel failed: ${err.message}`;
    }
  }

  // ---- panels read every few seconds -----------------------------------------------------

  async function refreshHealth() {
    const health = await api('GET', '/health');
    const badge = $('health');
    badge.textContent = `${health.status} · ${health.workers} worker${health.workers === 1 ? '' : 's'} · broker ${health.broker || '?'}`;
    badge.setAttribute('data-status', health.status);
    const rows = Object.entries(health.worker_details || {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, w]) =>
        el('tr', { 'data-worker': name }, [
          el('td', {}, [el('code', { text: name })]),
          el('td', { text: w.service }),
          el('td', {}, [stateBadge(w.status)]),
          el('td', { text: `${w.active}/${w.concurrency}` }),
          el('td', { text: w.processed }),
          el('td', { text: time(w.last_heartbeat) }),
        ]),
      );
    $('workers').tBodies[0].replaceChildren(...rows);
  }

  async function refreshQueues() {
    const { queues } = await api('GET', '/queues');
    const delay = queues.filter((q) => /(^|\.)tasks\.delay\.\d+$/.test(q.name));
    const rows = queues
      .filter((q) => !delay.includes(q))
      .map((q) => [q.name, q.messages, q.consumers]);
    if (delay.length > 0) {
      const waiting = delay.reduce((sum, q) => sum + q.messages, 0);
      rows.push([`delay levels (${delay.length} queues)`, waiting, '']);
    }
    $('queues').tBodies[0].replaceChildren(
      ...rows.map(([name, messages, consumers]) =>
        el('tr', { 'data-queue': name }, [
          el('td', {}, [el('code', { text: name })]),
          el('td', { text: messages }),
          el('td', { text: consumers }),
        ]),
      ),
    );
  }

  async function refreshDeadLetters() {
    const { dead_letters: letters, total } = await api('GET', '/dead-letters?limit=20');
    $('dead-letters').tBodies[0].replaceChildren(
      ...letters.map((d) =>
        el('tr', { 'data-task-id': d.task_id }, [
          el('td', {}, [el('code', { title: d.task_id, text: d.task_id.slice(0, 8) })]),
          el('td', { text: d.service }),
          el('td', { className: 'error', text: d.reason }),
          el('td', { text: time(d.parked_at) }),
          el('td', {}, [
            el('button', {
              type: 'button',
              'data-action': 'replay',
              'data-task-id': d.task_id,
              text: 'Replay',
            }),
          ]),
        ]),
      ),
    );
    if (total > letters.length) {
      $('dead-letters').tBodies[0].append(
        el('tr', {}, [
          el('td', { colspan: 5, className: 'muted', text: `… ${total - letters.length} more` }),
        ]),
      );
    }
  }

  async function refreshSchedules() {
    const { schedules } = await api('GET', '/schedules');
    $('schedules').tBodies[0].replaceChildren(
      ...schedules.map((s) =>
        el('tr', { 'data-schedule': s.name }, [
          el('td', { text: `${s.name}${s.enabled ? '' : ' (disabled)'}` }),
          el('td', { text: s.task }),
          el('td', { text: s.cron ? `${s.cron} ${s.timezone}` : `every ${s.every}` }),
          el('td', { text: s.next_run_at ? new Date(s.next_run_at).toLocaleString() : '' }),
          el('td', {}, [
            el('button', {
              type: 'button',
              'data-action': 'run',
              'data-schedule': s.name,
              'data-task': s.task,
              text: 'Run now',
            }),
          ]),
        ]),
      ),
    );
  }

  async function refreshPanels() {
    const results = await Promise.allSettled([
      refreshHealth(),
      refreshQueues(),
      refreshDeadLetters(),
      refreshSchedules(),
      refreshWaiting(),
    ]);
    const failed = results.filter((r) => r.status === 'rejected');
    $('updated').textContent = failed.length
      ? `refresh failed: ${failed[0].reason.message}`
      : `updated ${new Date().toLocaleTimeString()}`;
  }

  // ---- wiring -----------------------------------------------------------------------------

  function exampleBody() {
    $('submit-body').value = JSON.stringify(EXAMPLES[$('submit-type').value], null, 2);
  }

  function wire() {
    $('submit-type').addEventListener('change', exampleBody);
    exampleBody();

    $('submit-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const kind = $('submit-type').value;
      let body;
      try {
        body = JSON.parse($('submit-body').value || '{}');
      } catch (err) {
        $('submit-result').textContent = `invalid JSON: ${err.message}`;
        return;
      }
      try {
        const created = await api('POST', `/tasks/${kind}`, body);
        $('submit-result').textContent = `queued ${created.task_id}`;
        track(created.task_id, TYPES[kind]);
      } catch (err) {
        $('submit-result').textContent = `refused: ${err.message}`;
      }
    });

    $('follow-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = $('follow-id').value.trim();
      if (id) track(id, null);
      $('follow-id').value = '';
    });

    $('filter-state').addEventListener('change', renderTasks);
    $('filter-type').addEventListener('change', renderTasks);
    $('clear-finished').addEventListener('click', () => {
      for (const [id, task] of tasks) {
        if (!TERMINAL.has(task.status) && !task.error) continue;
        if (task.source) task.source.close();
        tasks.delete(id);
      }
      if (selected && !tasks.has(selected)) selected = null;
      save();
      renderTasks();
      renderDetail();
    });

    $('tasks').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-action="cancel"]');
      if (button) {
        void cancel(button.getAttribute('data-task-id'));
        return;
      }
      const row = event.target.closest('tr[data-task-id]');
      if (!row) return;
      selected = row.getAttribute('data-task-id');
      renderTasks();
      renderDetail();
    });

    $('dead-letters').addEventListener('click', async (event) => {
      const button = event.target.closest('button[data-action="replay"]');
      if (!button) return;
      const id = button.getAttribute('data-task-id');
      try {
        const replayed = await api('POST', `/dead-letters/${encodeURIComponent(id)}/replay`);
        $('submit-result').textContent =
          `replayed ${replayed.task_id} (attempt ${replayed.attempt})`;
        const task = track(replayed.task_id, null);
        task.status = null; // a replay reopens a finished task: follow it again
        follow(task);
        void refreshDeadLetters();
      } catch (err) {
        $('submit-result').textContent = `replay failed: ${err.message}`;
      }
    });

    $('schedules').addEventListener('click', async (event) => {
      const button = event.target.closest('button[data-action="run"]');
      if (!button) return;
      const name = button.getAttribute('data-schedule');
      try {
        const created = await api('POST', `/schedules/${encodeURIComponent(name)}/run`);
        $('submit-result').textContent = `schedule ${name} fired ${created.task_id}`;
        track(created.task_id, button.getAttribute('data-task'));
      } catch (err) {
        $('submit-result').textContent = `run failed: ${err.message}`;
      }
    });
  }

  function restore() {
    let saved = [];
    try {
      saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || '[]');
    } catch {
      saved = [];
    }
    for (const { id, type } of Array.isArray(saved) ? saved : []) {
      if (typeof id === 'string') track(id, type);
    }
  }

  function wireApiKey() {
    $('api-key').value = apiKey();
    $('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      try {
        sessionStorage.setItem(API_KEY_STORAGE, $('api-key').value.trim());
      } catch {
        // storage disabled: nothing to keep it in
      }
      for (const task of tasks.values()) {
        task.error = null;
        follow(task);
      }
      void refreshPanels();
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    wireApiKey();
    wire();
    restore();
    renderTasks();
    void refreshPanels();
    setInterval(() => void refreshPanels(), REFRESH_MS);
  });
})();
