import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * Summarizes a .cpuprofile written by `pnpm bench -- --profile`: busy time by package and the
 * hottest functions, start-up excluded, optionally as microseconds per call.
 *   pnpm exec tsx bench/profile-summary.ts bench/results/profiles/CPU...cpuprofile [--calls N] [--top 25]
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { calls: { type: 'string' }, top: { type: 'string', default: '25' } },
});
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [--calls N] [--top 25]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const interval = (profile.endTime - profile.startTime) / profile.samples.length;

/** Samples taken while modules load or the app is built are start-up, not serving. */
function isStartup(id: number): boolean {
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const frame = nodes.get(current)!.callFrame;
    if (/Module\._load|module_job|compileSourceTextModule/.test(frame.functionName + frame.url)) return true;
    if (frame.functionName === 'buildApp') return true;
  }
  return false;
}

function packageOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : `native ${frame.functionName}`;
  if (frame.url.startsWith('node:')) return frame.url.replace(/^node:(internal\/)?/, 'node:');
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(frame.url);
  return match?.[1] ?? frame.url.replace(/^file:\/\/\/.*?\/(packages|services|bench)\//, '$1/');
}

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
let busy = 0;
for (const id of profile.samples) {
  const frame = nodes.get(id)!.callFrame;
  if (frame.functionName === '(idle)' || isStartup(id)) continue;
  busy += 1;
  const pkg = packageOf(frame);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1);
  const fn = `${frame.functionName || '(anonymous)'} ${pkg}:${frame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + 1);
}
const calls = values.calls ? Number(values.calls) : undefined;
const top = Number(values.top);
const show = (title: string, map: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [key, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = `${((100 * count) / busy).toFixed(1)}%`.padStart(6);
    const perCall = calls ? `${((count * interval) / calls).toFixed(1).padStart(8)} us/call` : '';
    process.stdout.write(`${share}${perCall}  ${key}\n`);
  }
};
process.stdout.write(
  `${busy} busy samples of ${(interval / 1000).toFixed(2)} ms` +
    (calls ? `: ${((busy * interval) / calls).toFixed(0)} us per call over ${calls} calls\n` : '\n'),
);
show('by package (self time)', byPackage);
show('hottest functions (self time)', byFunction);
