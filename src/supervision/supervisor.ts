/**
 * Supervision of the embedded children of `npm start` (SPEC §7): when the Temporal dev
 * server or PostgreSQL exits without being asked to, it is started again with backoff on
 * the same data and port; after too many restarts in a short while the service gives up
 * and exits non-zero, so that a process manager restarts it — never a process that stays
 * up answering 503 for ever.
 *
 * `decideRestart` is the policy (pure: earlier restarts and the time in, a decision out);
 * `supervise` applies it to one child.
 */
import type { Logger } from '../logger';

export interface RestartPolicy {
  /** Delay before the first restart; doubled for each restart within the window. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Restarts allowed within `windowMs`; one more means giving up. */
  maxRestarts: number;
  windowMs: number;
}

/** 1 s, 2 s, 4 s, 8 s, 16 s; a sixth failure within 5 minutes gives up. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 1_000, maxDelayMs: 30_000, maxRestarts: 5, windowMs: 5 * 60_000 };

/**
 * The policy, with `INBOX_AUTOPILOT_RESTART_POLICY=baseDelayMs,maxDelayMs,maxRestarts,windowMs`
 * (tests) overriding the defaults.
 */
export function restartPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RestartPolicy {
  const raw = env.INBOX_AUTOPILOT_RESTART_POLICY;
  if (!raw) return DEFAULT_RESTART_POLICY;
  const [baseDelayMs, maxDelayMs, maxRestarts, windowMs] = raw.split(',').map((v) => Number(v.trim()));
  const policy = { baseDelayMs, maxDelayMs, maxRestarts, windowMs };
  if (Object.values(policy).some((v) => !Number.isFinite(v) || v < 0)) {
    throw new Error(`INBOX_AUTOPILOT_RESTART_POLICY must be baseDelayMs,maxDelayMs,maxRestarts,windowMs, not "${raw}"`);
  }
  return policy;
}

export type RestartDecision = { action: 'restart'; delayMs: number; attempt: number } | { action: 'give-up'; restarts: number };

/** What to do after a failure, given the times of the restarts already made. */
export function decideRestart(policy: RestartPolicy, restartsAt: readonly number[], now: number): RestartDecision {
  const recent = restartsAt.filter((t) => now - t < policy.windowMs).length;
  if (recent >= policy.maxRestarts) return { action: 'give-up', restarts: recent };
  return { action: 'restart', delayMs: Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** recent), attempt: recent + 1 };
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SupervisedRun {
  /** Resolves when the process exits, for whatever reason. */
  exited: Promise<ChildExit>;
}

export interface Supervision<T extends SupervisedRun> {
  /** The run now in service (the first, or the latest restart). */
  current(): T;
  /** Ends supervision (waits for a restart under way); the caller then stops `current()`. */
  stop(): Promise<void>;
}

export function describeExit(exit: ChildExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * Watches `first`; when it exits while supervised, logs it and starts a new run with
 * `restart` after the policy's delay, until the policy gives up: then `onGiveUp` gets an
 * error whose message says what happened.
 */
export function supervise<T extends SupervisedRun>(options: {
  /** For messages: "the Temporal dev server", "embedded PostgreSQL". */
  name: string;
  first: T;
  restart: () => Promise<T>;
  log: Logger;
  onGiveUp: (error: Error) => void;
  policy?: RestartPolicy;
  now?: () => number;
}): Supervision<T> {
  const policy = options.policy ?? DEFAULT_RESTART_POLICY;
  const now = options.now ?? Date.now;
  const { name, log } = options;
  const restartsAt: number[] = [];
  let current = options.first;
  let stopped = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = null));

  /** After an unexpected exit: restarts until one serves (true) or supervision ends (false). */
  async function recover(): Promise<boolean> {
    for (;;) {
      const decision = decideRestart(policy, restartsAt, now());
      if (decision.action === 'give-up') {
        const minutes = Math.round(policy.windowMs / 60_000);
        const error = new Error(
          `${name} keeps failing: restarted ${decision.restarts} times within ${minutes} min and still down; ` +
            'giving up so that the service exits non-zero (a process manager may restart it)',
        );
        log.fatal({ child: name, restarts: decision.restarts }, error.message);
        options.onGiveUp(error);
        return false;
      }
      restartsAt.push(now());
      log.info({ child: name, attempt: decision.attempt, delayMs: decision.delayMs }, `restarting ${name} in ${decision.delayMs / 1000} s`);
      await sleep(decision.delayMs);
      if (stopped) return false;
      const began = now();
      try {
        current = await options.restart();
        if (stopped) return false;
        log.info({ child: name, attempt: decision.attempt, ms: now() - began }, `${name} restarted and serving again`);
        return true;
      } catch (error) {
        if (stopped) return false;
        log.error({ child: name, attempt: decision.attempt, err: error }, `${name} failed to restart`);
      }
    }
  }

  let recovering: Promise<boolean> | null = null;
  async function loop(): Promise<void> {
    for (;;) {
      const exit = await current.exited;
      if (stopped) return;
      log.error({ child: name, ...exit }, `${name} exited unexpectedly (${describeExit(exit)}); restarting it`);
      recovering = recover();
      const serving = await recovering;
      recovering = null;
      if (!serving) return;
    }
  }
  void loop().catch((error) => log.error({ child: name, err: error }, `supervision of ${name} failed`));

  return {
    current: () => current,
    async stop() {
      stopped = true;
      wake?.();
      // A restart under way finishes (its run becomes `current`, which the caller stops).
      await recovering?.catch(() => false);
    },
  };
}
