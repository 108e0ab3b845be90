/**
 * The stack a scale benchmark drives, in one of two topologies, each in processes of its
 * own so that the benchmark's load generator and the fake Graph API (Meta, the only fake)
 * never share an event loop with the service:
 *
 * - `embedded`: `npm start`'s composition (startService(env, 'all'): Temporal dev server,
 *   worker and Express) on a fresh PostgreSQL database (bench/support/serve-embedded.ts);
 * - `cluster`: `npm run start:cluster`'s production topology (src/cluster.ts): the real
 *   Temporal server v1.29.1 on PostgreSQL, two worker and two API processes.
 *
 * BENCH_TOPOLOGY picks `embedded` (default), `cluster` or `both` (one after the other).
 * BENCH_CPU_PROF=<dir> runs every node process of the stack with `--cpu-prof` into <dir>
 * (summarise with `npx tsx bench/support/profile-summary.ts <dir>`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCluster } from '../../src/cluster';
import { createDatabase, type Database } from '../../src/store';
import { freePort, waitForPort } from '../../src/ports';
import { createTestDatabase, testLog } from '../../test/support/environment';
import { FakeGraphApi } from '../../test/support/fake-graph-api';
import { E2E_API_KEY, E2E_SECRET } from '../../test/support/running-service';

export type Topology = 'embedded' | 'cluster';

export interface BenchStack {
  topology: Topology;
  /** Every API process (the webhooks are spread over them round-robin). */
  apiUrls: string[];
  /** Every GET /metrics that holds worker figures (embedded: the API's page, merged). */
  metricsUrls: string[];
  db: Database;
  temporalAddress: string;
  namespace: string;
  graph: FakeGraphApi;
  /** The node processes of the stack by role (for RSS). */
  processes(): { role: string; pid: number }[];
  stop(): Promise<void>;
}

/** The topologies BENCH_TOPOLOGY asks for. */
export function wantedTopologies(): Topology[] {
  const wanted = process.env.BENCH_TOPOLOGY ?? 'embedded';
  if (wanted === 'both') return ['embedded', 'cluster'];
  if (wanted === 'embedded' || wanted === 'cluster') return [wanted];
  throw new Error(`BENCH_TOPOLOGY must be embedded, cluster or both, not ${wanted}`);
}

function profileEnv(): Record<string, string> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return {};
  mkdirSync(path.resolve(dir), { recursive: true });
  // `--cpu-prof` is not allowed in NODE_OPTIONS (which reaches every node process of the
  // stack, the ones it spawns itself included): a preload that does the same.
  return {
    BENCH_CPU_PROF: path.resolve(dir),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(__dirname, 'cpu-profile.cjs')}`.trim(),
  };
}

/** Environment of the service's processes: WhatsApp at the fake Graph API, quiet logs. */
function serviceEnv(graph: FakeGraphApi, extra: Record<string, string>): Record<string, string> {
  return {
    WHATSAPP_ACCESS_TOKEN: 'bench-token',
    WHATSAPP_API_BASE_URL: graph.url,
    WHATSAPP_APP_SECRET: E2E_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'bench-verify',
    API_KEYS: E2E_API_KEY,
    WHATSAPP_MESSAGES_PER_SECOND: '1000',
    WHATSAPP_CONTACT_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    ...profileEnv(),
    ...extra,
  };
}

export async function startStack(topology: Topology, extraEnv: Record<string, string> = {}): Promise<BenchStack> {
  // Once, a dev server started right after the production topology's stop exited during
  // its start (2026-12-02, timers after ingest); a scenario then lost its whole run.
  try {
    return await startStackOnce(topology, extraEnv);
  } catch (error) {
    process.stdout.write(`[${topology}] the stack did not start (${(error as Error).message}); starting it again in 5 s\n`);
    await new Promise((r) => setTimeout(r, 5000));
    return startStackOnce(topology, extraEnv);
  }
}

async function startStackOnce(topology: Topology, extraEnv: Record<string, string>): Promise<BenchStack> {
  const graph = await new FakeGraphApi().start();
  const dataDir = mkdtempSync(path.join(tmpdir(), `inbox-autopilot-bench-${topology}-`));
  if (topology === 'embedded') {
    const { db, url } = await createTestDatabase();
    const port = await freePort();
    const temporalPort = await freePort();
    const env = {
      ...process.env,
      ...serviceEnv(graph, extraEnv),
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_DEV_SERVER_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
    };
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serve-embedded.ts')], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    /** What the stack holds besides its process, given back on a stop or a failed start. */
    const release = async () => {
      await db.destroy();
      await graph.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    const up = await Promise.race([waitForPort(port, 180_000), exited.then(() => false)]);
    if (!up) {
      if (child.exitCode === null) child.kill('SIGKILL');
      await release();
      throw new Error('the embedded stack did not start');
    }
    return {
      topology,
      apiUrls: [`http://127.0.0.1:${port}`],
      metricsUrls: [`http://127.0.0.1:${port}/metrics`],
      db,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      namespace: 'default',
      graph,
      processes: () => [{ role: 'all (npm start)', pid: child.pid! }, ...childrenOf(child.pid!, 'worker')],
      async stop() {
        if (child.exitCode === null) child.kill('SIGTERM');
        const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(timeout);
        await release();
      },
    };
  }
  const port = await freePort();
  const metrics = await freePort();
  const cluster = await startCluster({
    dataDir,
    apiPorts: [port, await freePort()],
    metricsPorts: [metrics, await freePort()],
    temporalPort: await freePort(),
    postgresPort: await freePort(),
    env: serviceEnv(graph, extraEnv),
    // BENCH_SERVICE_OUTPUT=inherit shows the service processes' logs (LOG_LEVEL warn), to see why a webhook failed.
    output: process.env.BENCH_SERVICE_OUTPUT === 'inherit' ? 'inherit' : 'ignore',
    log: testLog,
  });
  const db = createDatabase(cluster.databaseUrl, 10);
  return {
    topology,
    apiUrls: cluster.apiUrls,
    metricsUrls: cluster.metricsUrls,
    db,
    temporalAddress: cluster.temporalAddress,
    namespace: 'default',
    graph,
    processes: () => cluster.processes,
    async stop() {
      await db.destroy();
      await cluster.stop();
      await graph.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Node children of a process (the embedded stack's worker process, when it runs one). */
function childrenOf(pid: number, role: string): { role: string; pid: number }[] {
  const out: { role: string; pid: number }[] = [];
  for (const p of listProcesses()) if (p.ppid === pid && /node/.test(p.comm)) out.push({ role, pid: p.pid });
  return out;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is state (field 3); utime is field 14, stime 15; ppid field 4.
      const ticks = Number(fields[11]) + Number(fields[12]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(entry), ppid: Number(fields[1]), comm, cmdline, ticks });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Which part of the machine a process is: only this benchmark's descendants are ours. */
function classify(p: ProcInfo, ours: boolean): string {
  if (p.pid === process.pid) return 'bench driver (load, fake Graph API)';
  if (!ours) return `other (not this bench): ${p.comm}`;
  if (p.cmdline.includes('serve-embedded.ts')) return 'node: npm start process (API; worker too if inline)';
  const role = / src\/main\.ts (worker|api)/.exec(p.cmdline)?.[1] ?? /main\.ts (worker|api)$/.exec(p.cmdline.trim())?.[1];
  if (role) return `node: ${role} process(es)`;
  if (p.cmdline.includes('start-dev')) return 'temporal dev server (SQLite)';
  if (/temporal-server-v[\d.]+\/server/.test(p.cmdline)) return 'temporal server 1.29.1';
  if (p.comm === 'postgres' || p.cmdline.startsWith('postgres')) return 'postgres (all backends)';
  if (p.comm.startsWith('esbuild')) return 'esbuild (tsx)';
  return `other: ${p.comm}`;
}

/** CPU used by each part of the machine between `start()` and the returned `stop()`. */
export function sampleCpu(): { stop(): { part: string; cores: number; share: number }[] } {
  const before = new Map(listProcesses().map((p) => [p.pid, p.ticks]));
  const t0 = performance.now();
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      const byPart = new Map<string, number>();
      const processes = listProcesses();
      const parent = new Map(processes.map((p) => [p.pid, p.ppid]));
      const isOurs = (pid: number) => {
        for (let at = pid, hops = 0; at > 1 && hops < 50; at = parent.get(at) ?? 0, hops++) if (at === process.pid) return true;
        return false;
      };
      for (const p of processes) {
        const used = p.ticks - (before.get(p.pid) ?? 0);
        if (used <= 0) continue;
        const part = classify(p, isOurs(p.pid));
        byPart.set(part, (byPart.get(part) ?? 0) + used);
      }
      const total = [...byPart.values()].reduce((a, b) => a + b, 0);
      const hz = 100; // USER_HZ on Linux
      return [...byPart.entries()]
        .map(([part, ticks]) => ({ part, cores: ticks / hz / seconds, share: ticks / total }))
        .sort((a, b) => b.cores - a.cores)
        .filter((r, i) => i < 8 || r.share > 0.02);
    },
  };
}

/** Rows for printTable: CPU by part of the machine over the measured window. */
export function cpuRows(samples: { part: string; cores: number; share: number }[]): [string, string, string][] {
  return samples.map((s) => [`CPU: ${s.part}`, `${s.cores.toFixed(2)} cores (${(s.share * 100).toFixed(0)} %)`, '']);
}
