/**
 * Builds the web app (web/ → dist/web) when it is missing or older than its sources, as
 * `npm start` does. The check reads only modification times, so it costs milliseconds.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Compiled (dist/src/web/build.js, `npm run build`): the web app was built beside the code,
 * into dist/web, and there are no sources to build it from. From source: the checkout's
 * web/ is built into dist/web.
 */
const COMPILED = __filename.endsWith('.js');
const ROOT = path.resolve(__dirname, '..', '..'); // the checkout; dist/ when compiled
export const WEB_SOURCE_DIR = path.join(ROOT, 'web');
export const WEB_DIST_DIR = COMPILED ? path.join(ROOT, 'web') : path.join(ROOT, 'dist', 'web');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Why the web app needs building, or null when dist/web is up to date (or there is no source). */
export function webBuildReason(): string | null {
  const index = path.join(WEB_DIST_DIR, 'index.html');
  if (COMPILED) return existsSync(index) ? null : 'not built yet';
  if (!existsSync(WEB_SOURCE_DIR)) return null;
  if (!existsSync(index)) return 'not built yet';
  const built = statSync(index).mtimeMs;
  const sources = Math.max(newestMtime(WEB_SOURCE_DIR), statSync(path.join(ROOT, 'package-lock.json')).mtimeMs);
  return sources > built ? 'sources changed since the last build' : null;
}

/** Runs `vite build web` (what `npm run build:web` runs), printing its progress to `out`. */
export function buildWebApp(out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', 'web'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`building the web app failed (vite exited with ${code})`))));
  });
}

/** Builds the web app if needed; returns whether it built. */
export async function ensureWebAppBuilt(out: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  const reason = webBuildReason();
  if (reason === null || COMPILED) return false;
  const started = Date.now();
  out.write(`Building the web app (${reason})…\n`);
  await buildWebApp(out);
  out.write(`Web app built in ${((Date.now() - started) / 1000).toFixed(1)} s → ${path.relative(ROOT, WEB_DIST_DIR)}\n`);
  return true;
}
