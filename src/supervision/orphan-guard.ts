/**
 * No orphans: the embedded PostgreSQL and Temporal dev server run in process groups of
 * their own (a Ctrl-C in the terminal reaches only the service, which stops them in
 * order), so nothing would stop them if the service were SIGKILLed. A small guard process
 * (plain Node, no dependencies) holds a pipe from this process and knows their pids; when
 * the pipe closes — this process is gone, however it died — it stops them (the signal
 * each asked for, SIGKILL after 10 s) and exits. A guard killed too is covered at the next
 * start by `reapLeftover` (the child's own pid file).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const GUARD_SCRIPT = `
const watched = new Map();
let buffer = '';
process.on('SIGINT', () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  for (let i = buffer.indexOf('\\n'); i >= 0; i = buffer.indexOf('\\n')) {
    const [op, pid, signal] = buffer.slice(0, i).split(' ');
    buffer = buffer.slice(i + 1);
    if (op === '+') watched.set(Number(pid), signal);
    else watched.delete(Number(pid));
  }
});
process.stdin.on('end', () => {
  const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  for (const [pid, signal] of watched) { try { process.kill(pid, signal); } catch {} }
  const started = Date.now();
  const timer = setInterval(() => {
    for (const pid of [...watched.keys()]) if (!alive(pid)) watched.delete(pid);
    if (watched.size === 0) process.exit(0);
    if (Date.now() - started > 10000) {
      for (const pid of watched.keys()) { try { process.kill(pid, 'SIGKILL'); } catch {} }
      process.exit(0);
    }
  }, 50);
});
`;

let guard: ChildProcess | null = null;

function ensureGuard(): ChildProcess {
  if (guard && guard.exitCode === null && guard.signalCode === null && guard.stdin?.writable) return guard;
  const g = spawn(process.execPath, ['-e', GUARD_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // Neither the guard nor its pipe keep this process alive.
  g.unref();
  (g.stdin as unknown as { unref?: () => void }).unref?.();
  g.stdin?.on('error', () => undefined);
  guard = g;
  return g;
}

/** Until `release`, `pid` gets `signal` if this process dies. */
export function guardChild(pid: number, signal: NodeJS.Signals): { release(): void } {
  ensureGuard().stdin?.write(`+ ${pid} ${signal}\n`);
  return {
    release() {
      if (guard?.stdin?.writable) guard.stdin.write(`- ${pid}\n`);
    },
  };
}

/** The command line of a live process, or null (Linux /proc; null elsewhere). */
export function commandLineOf(pid: number): string | null {
  try {
    // A zombie's is empty: gone as far as anyone cares.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() || null;
  } catch {
    return null;
  }
}

/**
 * Whether `pid` has exited but its parent has not collected it yet (a zombie). A process
 * SIGKILLed together with its parent is one until whoever adopts it (init, or a
 * container's PID 1) collects it, which some do only every few seconds.
 */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Resolves once `pid` is no zombie any more (collected, or never one), or after `limitMs`: whether it is gone. */
export async function zombieCollected(pid: number, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (isZombie(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * A process left behind by an earlier run on this data directory (its parent service is
 * gone): `pid` is alive, its command line contains `marker`, and its parent is not a
 * Node process (a service). Stopped with `signal`, SIGKILL after `graceMs`; resolves
 * with what was found, null when nothing was.
 */
export async function reapLeftover(pid: number, marker: string, signal: NodeJS.Signals, graceMs = 10_000): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return null;
  const command = commandLineOf(pid);
  if (!command?.includes(marker)) return null;
  const parent = parentOf(pid);
  const parentCommand = parent && parent > 1 ? commandLineOf(parent) : null;
  if (parentCommand && /(^|\/)node$/.test(parentCommand.split(' ')[0])) {
    throw new Error(`another Inbox Autopilot (pid ${parent}) runs on this data directory: ${command.slice(0, 120)}`);
  }
  try {
    process.kill(pid, signal);
  } catch {
    return null;
  }
  const deadline = Date.now() + graceMs;
  while (commandLineOf(pid) !== null) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return command;
}
