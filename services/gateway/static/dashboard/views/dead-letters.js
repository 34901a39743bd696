/*
 * Dead letters: the parked tasks (GET /dead-letters) with their reason and payload; replay one,
 * or select several (or all shown) and replay them together; discard one.
 */
import { $, announce, api, button, dateTime, el, every, replaceKeepingFocus } from '../core.js';

const REFRESH_MS = 5000;
const PAGE = 100;
let stopPolling = null;
/** Ids ticked, kept across redraws. */
const selected = new Set();

function row(letter) {
  const id = letter.task_id;
  return el('tr', { 'data-task-id': id }, [
    el('td', {}, [
      el('input', {
        type: 'checkbox',
        'data-action': 'select',
        'data-task-id': id,
        'data-key': `select:${id}`,
        'aria-label': `Select ${id}`,
        checked: selected.has(id),
      }),
    ]),
    el('td', {}, [
      el('a', { href: `#/task/${encodeURIComponent(id)}`, title: id, text: id.slice(0, 8) }),
    ]),
    el('td', { text: letter.service }),
    el('td', { className: 'error', text: letter.reason }),
    el('td', { text: letter.attempt ?? '' }),
    el('td', { text: dateTime(letter.parked_at) }),
    el('td', { className: 'actions' }, [
      button('Replay', { 'data-action': 'replay', 'data-task-id': id, 'data-key': `replay:${id}` }),
      button('Discard', {
        'data-action': 'discard',
        'data-task-id': id,
        'data-key': `discard:${id}`,
        className: 'danger',
      }),
    ]),
  ]);
}

async function refresh() {
  const { dead_letters: letters, total } = await api('GET', `/dead-letters?limit=${PAGE}`);
  const ids = new Set(letters.map((d) => d.task_id));
  for (const id of selected) if (!ids.has(id)) selected.delete(id);
  replaceKeepingFocus($('dead-letters').tBodies[0], letters.map(row));
  $('dead-total').textContent =
    `${total} parked${total > letters.length ? `, the oldest ${letters.length} shown` : ''}`;
  $('dead-select-all').checked = letters.length > 0 && selected.size === letters.length;
  $('dead-replay-selected').disabled = selected.size === 0;
}

async function replay(ids) {
  const failed = [];
  for (const id of ids) {
    try {
      await api('POST', `/dead-letters/${encodeURIComponent(id)}/replay`);
      selected.delete(id);
    } catch (err) {
      failed.push(`${id.slice(0, 8)}: ${err.message}`);
    }
  }
  const done = ids.length - failed.length;
  announce(`replayed ${done} of ${ids.length}${failed.length ? ` (${failed.join('; ')})` : ''}`);
  await refresh();
}

export function init() {
  $('dead-letters').addEventListener('change', (event) => {
    const box = event.target.closest('input[data-action="select"]');
    if (!box) return;
    const id = box.getAttribute('data-task-id');
    if (box.checked) selected.add(id);
    else selected.delete(id);
    $('dead-replay-selected').disabled = selected.size === 0;
  });
  $('dead-select-all').addEventListener('change', () => {
    const all = $('dead-select-all').checked;
    for (const box of $('dead-letters').tBodies[0].querySelectorAll(
      'input[data-action="select"]',
    )) {
      box.checked = all;
      if (all) selected.add(box.getAttribute('data-task-id'));
      else selected.delete(box.getAttribute('data-task-id'));
    }
    $('dead-replay-selected').disabled = selected.size === 0;
  });
  $('dead-replay-selected').addEventListener('click', () => void replay([...selected]));
  $('dead-letters').addEventListener('click', async (event) => {
    const target = event.target.closest('button[data-action]');
    if (!target) return;
    const id = target.getAttribute('data-task-id');
    if (target.getAttribute('data-action') === 'replay') {
      await replay([id]);
      return;
    }
    try {
      await api('DELETE', `/dead-letters/${encodeURIComponent(id)}`);
      announce(`discarded ${id}`);
    } catch (err) {
      announce(`discard failed: ${err.message}`);
    }
    await refresh();
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
