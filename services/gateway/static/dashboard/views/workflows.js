/*
 * Workflows: start one (POST /workflows) or open one by id, and see each step's state drawn as a
 * graph (GET /workflows/{id}: a step's `after` are its incoming edges), read again every few
 * seconds until the workflow ends. Each step is a link to its task.
 */
import { $, announce, api, el, every, stateBadge, svg } from '../core.js';

const REFRESH_MS = 2000;
const RECENT_STORAGE = 'task-platform.dashboard.workflows';
const NODE = { width: 150, height: 46, gapX: 60, gapY: 18, pad: 10 };
const EXAMPLE = {
  chain: [
    { task: 'process', payload: { data: { records: [{ amount: 2 }] } } },
    {
      group: [
        { task: 'process', payload: { data: { records: [{ amount: 3 }] } } },
        { task: 'report', payload: { report_type: 'daily' } },
      ],
    },
    { task: 'process', payload: { data: { records: [{ amount: 1 }] } } },
  ],
};
const FINISHED = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

let stopPolling = null;
let workflowId = '';

function recent() {
  try {
    const saved = JSON.parse(localStorage.getItem(RECENT_STORAGE) || '[]');
    return Array.isArray(saved) ? saved.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function remember(id) {
  try {
    localStorage.setItem(RECENT_STORAGE, JSON.stringify([id, ...recent()].slice(0, 10)));
  } catch {
    // storage disabled: the list lives for this page only
  }
  renderRecent();
}

function renderRecent() {
  $('workflow-recent').replaceChildren(
    ...recent().map((id) =>
      el('li', {}, [el('a', { href: `#/workflows/${encodeURIComponent(id)}`, text: id })]),
    ),
  );
}

/** Each step's column: the longest path of `after` edges leading to it. */
function layers(steps) {
  const byId = new Map(steps.map((s) => [s.task_id, s]));
  const depth = new Map();
  const depthOf = (step) => {
    if (depth.has(step.task_id)) return depth.get(step.task_id);
    depth.set(step.task_id, 0); // a cycle cannot happen; this only guards the recursion
    const d = Math.max(
      0,
      ...step.after.filter((id) => byId.has(id)).map((id) => depthOf(byId.get(id)) + 1),
    );
    depth.set(step.task_id, d);
    return d;
  };
  for (const step of steps) depthOf(step);
  return depth;
}

function draw(workflow) {
  const depth = layers(workflow.steps);
  const rows = new Map();
  const position = new Map();
  for (const step of workflow.steps) {
    const column = depth.get(step.task_id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    position.set(step.task_id, {
      x: NODE.pad + column * (NODE.width + NODE.gapX),
      y: NODE.pad + row * (NODE.height + NODE.gapY),
    });
  }
  const columns = Math.max(1, ...[...rows.keys()].map((c) => c + 1));
  const height = Math.max(1, ...rows.values()) * (NODE.height + NODE.gapY) + NODE.pad * 2;
  const width = columns * (NODE.width + NODE.gapX) + NODE.pad * 2;
  const arrow = svg(
    'marker',
    {
      id: 'arrow',
      viewBox: '0 0 10 10',
      refX: 10,
      refY: 5,
      markerWidth: 8,
      markerHeight: 8,
      orient: 'auto-start-reverse',
    },
    [svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'edge-head' })],
  );
  const edges = workflow.steps.flatMap((step) =>
    step.after
      .filter((from) => position.has(from))
      .map((from) => {
        const a = position.get(from);
        const b = position.get(step.task_id);
        const x1 = a.x + NODE.width;
        const y1 = a.y + NODE.height / 2;
        const x2 = b.x;
        const y2 = b.y + NODE.height / 2;
        const mid = (x1 + x2) / 2;
        return svg('path', {
          class: 'edge',
          'data-from': from,
          'data-to': step.task_id,
          d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`,
          'marker-end': 'url(#arrow)',
        });
      }),
  );
  const nodes = workflow.steps.map((step) => {
    const { x, y } = position.get(step.task_id);
    return svg(
      'a',
      {
        href: `#/task/${encodeURIComponent(step.task_id)}`,
        class: 'node',
        'data-task-id': step.task_id,
        'data-status': step.status,
        'aria-label': `${step.task} step ${step.task_id}: ${step.status}`,
      },
      [
        svg('rect', { x, y, width: NODE.width, height: NODE.height, rx: 6 }),
        svg('text', { x: x + 8, y: y + 18, class: 'node-title', text: step.task }),
        svg('text', {
          x: x + 8,
          y: y + 36,
          class: 'node-state',
          text: `${step.status} · ${step.task_id.slice(0, 8)}`,
        }),
      ],
    );
  });
  $('workflow-graph').replaceChildren(
    svg(
      'svg',
      { width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': 'Steps' },
      [svg('defs', {}, [arrow]), ...edges, ...nodes],
    ),
  );
  $('workflow-steps').replaceChildren(
    ...workflow.steps.map((step) =>
      el('li', {
        text: `${step.task} ${step.task_id}: ${step.status}${step.error ? ` (${step.error})` : ''}`,
      }),
    ),
  );
}

async function refresh() {
  let workflow;
  try {
    workflow = await api('GET', `/workflows/${encodeURIComponent(workflowId)}`);
  } catch (err) {
    $('workflow-error').hidden = false;
    $('workflow-error').textContent = err.message;
    stopPolling?.();
    return;
  }
  $('workflow-error').hidden = !workflow.error;
  $('workflow-error').textContent = workflow.error || '';
  $('workflow-state').replaceChildren(stateBadge(workflow.status));
  draw(workflow);
  if (FINISHED.has(workflow.status)) stopPolling?.();
}

function open(id) {
  stopPolling?.();
  workflowId = id;
  $('workflow-detail').hidden = !id;
  $('workflow-detail-id').textContent = id;
  $('workflow-graph').replaceChildren();
  $('workflow-state').replaceChildren();
  if (id) stopPolling = every(REFRESH_MS, refresh);
}

export function init() {
  $('workflow-body').value = JSON.stringify(EXAMPLE, null, 2);
  $('workflow-open-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('workflow-id').value.trim();
    if (id) location.hash = `#/workflows/${encodeURIComponent(id)}`;
  });
  $('workflow-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse($('workflow-body').value);
    } catch (err) {
      announce(`invalid JSON: ${err.message}`);
      return;
    }
    try {
      const created = await api('POST', '/workflows', body);
      announce(`workflow ${created.workflow_id} started with ${created.task_ids.length} steps`);
      remember(created.workflow_id);
      location.hash = `#/workflows/${encodeURIComponent(created.workflow_id)}`;
    } catch (err) {
      announce(`refused: ${err.message}`);
    }
  });
}

export function show(id) {
  renderRecent();
  open(id);
}

export function hide() {
  stopPolling?.();
  stopPolling = null;
}
