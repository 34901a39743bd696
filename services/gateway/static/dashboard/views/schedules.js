/*
 * Schedules: every schedule (GET /schedules) with run now, enable / disable, edit and delete;
 * a form that creates one (POST /schedules) or, after "Edit", replaces it (PUT /schedules/{name}).
 */
import {
  $,
  announce,
  api,
  button,
  dateTime,
  el,
  every,
  replaceKeepingFocus,
  TYPES,
} from '../core.js';

const REFRESH_MS = 5000;
let stopPolling = null;
let schedules = [];
/** The name of the schedule being edited; null while the form creates a new one. */
let editing = null;

function actions(schedule) {
  const name = schedule.name;
  const attrs = (action) => ({
    'data-action': action,
    'data-schedule': name,
    'data-key': `${action}:${name}`,
    'aria-label': `${action} schedule ${name}`,
  });
  return el('td', { className: 'actions' }, [
    button('Run now', attrs('run')),
    button(schedule.enabled ? 'Disable' : 'Enable', attrs(schedule.enabled ? 'disable' : 'enable')),
    button('Edit', attrs('edit')),
    button('Delete', { ...attrs('delete'), className: 'danger' }),
  ]);
}

function row(schedule) {
  return el('tr', { 'data-schedule': schedule.name, 'data-enabled': String(schedule.enabled) }, [
    el('td', { text: `${schedule.name}${schedule.enabled ? '' : ' (disabled)'}` }),
    el('td', { text: schedule.task }),
    el('td', {
      text: schedule.cron ? `${schedule.cron} ${schedule.timezone}` : `every ${schedule.every}`,
    }),
    el('td', { text: dateTime(schedule.next_run_at) }),
    el('td', {}, [
      schedule.last_task_id
        ? el('a', {
            href: `#/task/${encodeURIComponent(schedule.last_task_id)}`,
            text: dateTime(schedule.last_run_at) || schedule.last_task_id.slice(0, 8),
          })
        : null,
    ]),
    actions(schedule),
  ]);
}

async function refresh() {
  ({ schedules } = await api('GET', '/schedules'));
  replaceKeepingFocus($('schedules').tBodies[0], schedules.map(row));
}

function resetForm() {
  editing = null;
  $('schedule-form').reset();
  $('schedule-name').disabled = false;
  $('schedule-payload').value = '{}';
  $('schedule-form-title').textContent = 'New schedule';
  $('schedule-save').textContent = 'Create';
}

function edit(name) {
  const schedule = schedules.find((s) => s.name === name);
  if (!schedule) return;
  editing = name;
  $('schedule-name').value = schedule.name;
  $('schedule-name').disabled = true;
  $('schedule-task').value = schedule.task;
  $('schedule-cron').value = schedule.cron ?? '';
  $('schedule-every').value = schedule.every ?? '';
  $('schedule-timezone').value = schedule.timezone;
  $('schedule-enabled').checked = schedule.enabled;
  $('schedule-payload').value = JSON.stringify(schedule.payload ?? {}, null, 2);
  $('schedule-form-title').textContent = `Edit ${name}`;
  $('schedule-save').textContent = 'Save';
  $('schedule-cron').focus();
}

function formSpec() {
  const spec = {
    name: $('schedule-name').value.trim(),
    task: $('schedule-task').value,
    timezone: $('schedule-timezone').value.trim() || 'UTC',
    enabled: $('schedule-enabled').checked,
    payload: JSON.parse($('schedule-payload').value || '{}'),
  };
  const cron = $('schedule-cron').value.trim();
  const every = $('schedule-every').value.trim();
  if (cron) spec.cron = cron;
  if (every) spec.every = /^\d+$/.test(every) ? Number(every) : every;
  return spec;
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
  for (const key of Object.keys(TYPES)) {
    $('schedule-task').append(el('option', { value: key, text: key }));
  }
  $('schedules').addEventListener('click', (event) => {
    const target = event.target.closest('button[data-action]');
    if (!target) return;
    const name = target.getAttribute('data-schedule');
    const path = `/schedules/${encodeURIComponent(name)}`;
    switch (target.getAttribute('data-action')) {
      case 'run':
        void (async () => {
          try {
            const created = await api('POST', `${path}/run`);
            announce(`schedule ${name} fired ${created.task_id}`);
          } catch (err) {
            announce(`run failed: ${err.message}`);
          }
        })();
        break;
      case 'enable':
      case 'disable': {
        const enabled = target.getAttribute('data-action') === 'enable';
        void act(`${name} ${enabled ? 'enabled' : 'disabled'}`, () =>
          api('PATCH', path, { enabled }),
        );
        break;
      }
      case 'edit':
        edit(name);
        break;
      case 'delete':
        if (window.confirm(`Delete the schedule ${name}?`)) {
          void act(`${name} deleted`, () => api('DELETE', path));
        }
        break;
    }
  });
  $('schedule-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    let spec;
    try {
      spec = formSpec();
    } catch (err) {
      announce(`invalid payload JSON: ${err.message}`);
      return;
    }
    const name = editing;
    await act(name ? `${name} saved` : `${spec.name} created`, async () => {
      if (name) await api('PUT', `/schedules/${encodeURIComponent(name)}`, spec);
      else await api('POST', '/schedules', spec);
      resetForm();
    });
  });
  $('schedule-reset').addEventListener('click', resetForm);
}

export function show() {
  stopPolling?.();
  stopPolling = every(REFRESH_MS, refresh);
}

export function hide() {
  stopPolling?.();
  stopPolling = null;
}
