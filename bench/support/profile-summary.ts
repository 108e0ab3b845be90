/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, or BENCH_CPU_PROF=<dir> on a benchmark):
 * for each profile, the busy share and the functions and packages with the most self time.
 *   npx tsx bench/support/profile-summary.ts <dir or .cpuprofile files> [top=20]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  if (url === '') return '(native/V8)';
  const m = /\/work\/main\/(.*)$/.exec(url.replace('file://', ''));
  return m ? m[1] : url;
}

function summarise(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = (profile.endTime - profile.startTime) / 1000;
  let idle = 0;
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us / 1000;
      continue;
    }
    const key = `${name}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us / 1000);
    const p = ['(garbage collector)', '(program)'].includes(name) ? name : where(n.callFrame.url);
    pkg.set(p, (pkg.get(p) ?? 0) + us / 1000);
  }
  const busy = total - idle;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1).padStart(5)} %`;
  process.stdout.write(
    `\n${path.basename(file)}: ${(total / 1000).toFixed(1)} s profiled, busy ${(busy / 1000).toFixed(1)} s (${((busy / total) * 100).toFixed(0)} %)\n`,
  );
  process.stdout.write('  self time by package / file (share of busy time):\n');
  for (const [k, ms] of [...pkg.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`    ${pct(ms)}  ${k}\n`);
  process.stdout.write('  self time by function:\n');
  for (const [k, ms] of [...fn.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`    ${pct(ms)}  ${k}\n`);
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
for (const arg of args.filter((a) => !/^\d+$/.test(a))) {
  const files = statSync(arg).isDirectory()
    ? readdirSync(arg)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => path.join(arg, f))
    : [arg];
  for (const f of files) summarise(f, top);
}
