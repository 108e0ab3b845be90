/**
 * `npm run bench -- <name> [<name>…]` runs benchmarks by name; `npm run bench` (or
 * `npm run bench -- all`) runs the four scale scenarios of issue 9 (ingest, timers,
 * sustained, memory) against the embedded stack and the production topology
 * (BENCH_TOPOLOGY=both unless set) and ends with one summary table of every figure beside
 * its target, a column per topology. Benchmarks print figures for humans; they never fail
 * on a number.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const KNOWN = [
  'test-server-start',
  'send-pacing',
  'webhook-latency',
  'restart-soak',
  'chaos',
  'ingest',
  'timers',
  'sustained',
  'memory',
  'events',
  'replay',
];
const SCALE = ['ingest', 'timers', 'sustained', 'memory'];
const args = process.argv.slice(2);
const all = args.length === 0 || args.includes('all');
const wanted = all ? SCALE : args;
const resultsDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-bench-'));
const resultsFile = path.join(resultsDir, 'results.jsonl');
const env = { ...process.env, BENCH_RESULTS_FILE: resultsFile, BENCH_TOPOLOGY: process.env.BENCH_TOPOLOGY ?? (all ? 'both' : 'embedded') };
let status = 0;
for (const name of wanted) {
  if (!KNOWN.includes(name)) throw new Error(`unknown benchmark ${name}; known: all, ${KNOWN.join(', ')}`);
  console.log(`\n== ${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, `${name}.ts`)], { stdio: 'inherit', env });
  if (result.status !== 0) {
    status = result.status ?? 1;
    console.log(`== ${name} failed (exit ${status}); going on with the next`);
  }
}
if (existsSync(resultsFile) && wanted.length > 1) printSummary(readFileSync(resultsFile, 'utf8'));
rmSync(resultsDir, { recursive: true, force: true });
process.exit(status);

/** One table: scenario, figure, a column per topology, target. */
function printSummary(jsonl: string): void {
  const tables = jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { title: string; load: string; at: string; rows: [string, string, string][] });
  const topologies = [...new Set(tables.map((t) => /\[(\w+)\]/.exec(t.title)?.[1] ?? 'embedded'))];
  const rows = new Map<string, { scenario: string; what: string; target: string; by: Map<string, string> }>();
  for (const t of tables) {
    const topology = /\[(\w+)\]/.exec(t.title)?.[1] ?? 'embedded';
    const scenario = t.title.split(/[\s:]/)[0];
    for (const [what, measured, target] of t.rows) {
      const generic = what.replace(/ pid \d+/, '');
      const key = `${scenario}|${generic}`;
      const row = rows.get(key) ?? { scenario, what: generic, target, by: new Map() };
      row.by.set(topology, row.by.has(topology) ? `${row.by.get(topology)}; ${measured}` : measured);
      row.target ||= target;
      rows.set(key, row);
    }
  }
  const header = ['scenario', 'figure', ...topologies, 'target'];
  const body = [...rows.values()].map((r) => [r.scenario, r.what, ...topologies.map((t) => r.by.get(t) ?? '–'), r.target]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n== summary — ${new Date().toISOString()}`);
  for (const t of tables) console.log(`  ${t.title.split(' — ')[0]}: ${t.at}, ${t.load}`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const b of body) console.log(line(b));
}
