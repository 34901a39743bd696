/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): where the busy time went, by function (self
 * time) and by package (self time, and inclusive time: samples with the package anywhere on the
 * stack), optionally only within a window of the machine's monotonic clock.
 */
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './child';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface Share {
  readonly name: string;
  /** Share of the busy (non-idle) samples, percent. */
  readonly percent: number;
}

export interface ProfileSummary {
  /** Busy time in the window, ms. */
  readonly busyMs: number;
  readonly idlePercent: number;
  readonly topSelf: Share[];
  readonly packagesSelf: Share[];
  readonly packagesInclusive: Share[];
}

/** What a frame belongs to: a package, our code, a Node module, GC or V8 itself. */
export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8 / native (program)';
  if (url === '') return 'builtins (JSON, Buffer, …)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.includes('/runtime/dist/')) return '@tasks/runtime';
  if (url.includes('/contracts/dist/')) return '@tasks/contracts';
  const service = /\/services\/([^/]+)\/dist\//.exec(url);
  if (service) return `service ${service[1]}`;
  if (url.includes('/bench/dist/')) return 'bench handler';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' ? (parts[1] ?? 'internal').replace(/\.js$/, '') : parts[0]!}`;
  }
  return 'other';
}

function frameName(frame: CallFrame): string {
  const url = frame.url.replace(`file://${REPO_ROOT}/`, '').replace(/^.*node_modules\//, '');
  const where = url ? ` ${url}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where}`;
}

function top(counts: Map<string, number>, total: number, n: number): Share[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, c]) => ({ name, percent: (100 * c) / total }));
}

/** `windowUs`: keep only samples taken within [from, to] (µs on the monotonic clock). */
export function summariseProfile(
  path: string,
  windowUs?: { from: number; to: number },
  n = 20,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const pkgSelf = new Map<string, number>();
  const pkgIncl = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (windowUs && (t < windowUs.from || t > windowUs.to)) return;
    const node = byId.get(id);
    if (!node) return;
    if (node.callFrame.functionName === '(idle)') {
      idle += 1;
      return;
    }
    busy += 1;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + 1);
    const cat = categoryOf(node.callFrame);
    pkgSelf.set(cat, (pkgSelf.get(cat) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      seen.add(categoryOf(frame));
    }
    for (const c of seen) pkgIncl.set(c, (pkgIncl.get(c) ?? 0) + 1);
  });
  const sampleUs = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  return {
    busyMs: (busy * sampleUs) / 1000,
    idlePercent: (100 * idle) / Math.max(1, busy + idle),
    topSelf: top(self, busy, n),
    packagesSelf: top(pkgSelf, busy, n),
    packagesInclusive: top(pkgIncl, busy, n),
  };
}
