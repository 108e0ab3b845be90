/**
 * The service as `npm start` runs it, as an OS process of its own (`src/main.ts all`):
 * embedded PostgreSQL and Temporal dev server as its children, the worker as a child
 * process, JSON logs collected from its output. Used by the fault tests (test/faults/
 * supervision.test.ts) and the chaos benchmark (bench/chaos.ts), which kill its parts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../../src/ports';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { E2E_API_KEY, E2E_SECRET } from './running-service';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Every line it printed (banner included). */
  output: string[];
  /** Its JSON log lines, parsed. */
  logs(): LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the banner is printed; rejects if the process exits first. */
  ready: Promise<void>;
}

export interface ServiceProcessOptions {
  dataDir: string;
  graphUrl: string;
  /** Fixed for every start on this data directory (the ports are part of the data's setup). */
  ports: ServicePorts;
  env?: Record<string, string>;
}

export interface ServicePorts {
  http: number;
  postgres: number;
  temporal: number;
  temporalUi: number;
}

export async function pickPorts(): Promise<ServicePorts> {
  return { http: await freePort(), postgres: await freePort(), temporal: await freePort(), temporalUi: await freePort() };
}

/** Starts `src/main.ts all` (what `npm start` runs) and resolves when it listens. */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'all'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATA_DIR: options.dataDir,
      PORT: String(options.ports.http),
      EMBEDDED_POSTGRES_PORT: String(options.ports.postgres),
      TEMPORAL_DEV_SERVER_PORT: String(options.ports.temporal),
      TEMPORAL_UI_PORT: String(options.ports.temporalUi),
      WHATSAPP_ACCESS_TOKEN: 'fault-access-token',
      WHATSAPP_API_BASE_URL: options.graphUrl,
      WHATSAPP_APP_SECRET: E2E_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'fault-verify-token',
      API_KEYS: E2E_API_KEY,
      ADMIN_PASSWORD: 'fault-admin-password',
      WHATSAPP_CONTACT_INTERVAL_MS: '0',
      WHATSAPP_MESSAGES_PER_SECOND: '1000',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      // The web app is not what these processes are about (and the checkout is shared).
      INBOX_AUTOPILOT_SKIP_WEB_BUILD: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    output.push(...lines);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      if (partial) output.push(partial);
      resolve({ code, signal });
    }),
  );
  const ready = (async () => {
    const up = await Promise.race([
      (async () => {
        for (;;) {
          if (output.some((l) => l.includes('Inbox Autopilot is running (all)'))) return true;
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      exited.then(() => false),
    ]);
    if (!up) throw new Error(`the service exited during start:\n${output.slice(-40).join('\n')}`);
    await waitForPort(options.ports.http, 10_000);
  })();
  ready.catch(() => undefined);
  return {
    child,
    baseUrl: `http://127.0.0.1:${options.ports.http}`,
    output,
    logs: () =>
      output.flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      }),
    exited,
    ready,
  };
}

/** pino's levels: 40 warn, 50 error, 60 fatal. */
export const WARN = 40;

/** The pid of the embedded dev server now running on `dataDir`, or null. */
export function devServerPid(dataDir: string): number | null {
  return livePid(Number(readOrEmpty(path.join(dataDir, 'temporal.pid')).trim()), 'start-dev');
}

/** The pid of the embedded postmaster now running on `dataDir`, or null. */
export function postgresPid(dataDir: string): number | null {
  return livePid(Number(readOrEmpty(path.join(dataDir, 'postgres', 'postmaster.pid')).split('\n')[0]), 'postgres');
}

/** The pid of the worker child of the service `parentPid`, or null. */
export function workerPid(parentPid: number): number | null {
  return processes().find((p) => p.ppid === parentPid && p.cmdline.includes('main.ts worker'))?.pid ?? null;
}

/** Every live process whose command line contains `marker` (leftovers, orphans). */
export function processesWith(marker: string): { pid: number; cmdline: string }[] {
  return processes().filter((p) => p.pid !== process.pid && p.cmdline.includes(marker));
}

function livePid(pid: number, marker: string): number | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const cmdline = readOrEmpty(`/proc/${pid}/cmdline`).replace(/\0/g, ' ');
  return cmdline.includes(marker) ? pid : null;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function processes(): { pid: number; ppid: number; cmdline: string }[] {
  const out: { pid: number; ppid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOrEmpty(`/proc/${entry}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    out.push({ pid: Number(entry), ppid, cmdline: readOrEmpty(`/proc/${entry}/cmdline`).replace(/\0/g, ' ') });
  }
  return out;
}

/** Posts a signed text webhook as Meta does; resolves with the status (0: no answer). */
export async function postSignedWebhook(baseUrl: string, body: object, timeoutMs = 15_000): Promise<{ status: number; ms: number }> {
  const raw = JSON.stringify(body);
  const started = Date.now();
  try {
    const response = await fetch(`${baseUrl}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(raw, E2E_SECRET) },
      body: raw,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return { status: response.status, ms: Date.now() - started };
  } catch {
    return { status: 0, ms: Date.now() - started };
  }
}

/** Like Meta: posts until answered 200 (every `everyMs`), up to `timeoutMs`; the answers seen. */
export async function deliverLikeMeta(baseUrl: string, body: object, options: { everyMs?: number; timeoutMs?: number } = {}): Promise<number[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const statuses: number[] = [];
  for (;;) {
    const { status } = await postSignedWebhook(baseUrl, body);
    statuses.push(status);
    if (status === 200 || Date.now() > deadline) return statuses;
    await new Promise((r) => setTimeout(r, options.everyMs ?? 500));
  }
}

/** /healthz as JSON, or null when nothing answers. */
export async function healthOf(baseUrl: string): Promise<{ status: number; body: Record<string, string> } | null> {
  try {
    const r = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return { status: r.status, body: (await r.json()) as Record<string, string> };
  } catch {
    return null;
  }
}
