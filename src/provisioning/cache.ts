import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Provisioned servers live outside the repository so a fresh clone stays small and a
 * second clone reuses them. Override with INBOX_AUTOPILOT_CACHE_DIR.
 */
export function cacheRoot(): string {
  if (process.env.INBOX_AUTOPILOT_CACHE_DIR) return path.resolve(process.env.INBOX_AUTOPILOT_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(xdg, 'inbox-autopilot');
}

/** Prints provisioning progress; provisioning can take minutes the first time. */
export type ProgressReporter = (message: string) => void;

export const printProgress: ProgressReporter = (message) => process.stderr.write(`[provision] ${message}\n`);

/** Runs `work`, printing a line every `everyMs` so a long build never looks hung. */
export async function withHeartbeat<T>(report: ProgressReporter, label: string, work: () => Promise<T>, everyMs = 30_000): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => report(`${label}: still working (${Math.round((Date.now() - started) / 1000)} s)`), everyMs);
  try {
    const result = await work();
    report(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } finally {
    clearInterval(timer);
  }
}
