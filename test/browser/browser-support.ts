/**
 * Browser tests of the web app (SPEC §8): headless Chromium (playwright-core driving the
 * system's /usr/bin/chromium, or CHROMIUM_PATH) against the real service of
 * running-service.ts, with axe-core for accessibility and screenshots for the README.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { ensureWebAppBuilt, WEB_DIST_DIR } from '../../src/web/build';

export const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(', ')}): apt-get install -y chromium, or set CHROMIUM_PATH`);
  return found;
}

/** Builds dist/web if it is missing or stale (quietly, unless it fails). */
export async function buildWebAppQuietly(): Promise<void> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  try {
    await ensureWebAppBuilt(out);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${Buffer.concat(chunks).toString('utf8')}`, { cause: error });
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export async function newPage(browser: Browser, baseURL: string, width = 1280, height = 860): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width, height }, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

export async function signIn(page: Page, login: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByRole('heading', { name: 'Sign in to Inbox Autopilot' }).waitFor();
  await page.getByLabel('Login').fill(login);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Inbox', exact: true }).waitFor();
}

/** Runs axe on the page; returns the serious and critical violations, for an assertion. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export const axeReport: Record<string, { serious: number; total: number }> = {};

export async function assertAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  axeReport[name] = { serious: serious.length, total: results.violations.length };
  assert.deepEqual(
    serious.map(
      (v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')} (${n.any.map((a) => a.message).join('; ')})`).join(', ')}`,
    ),
    [],
    `axe found serious or critical violations on ${name}`,
  );
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  return file;
}

/**
 * The bytes the browser downloads for the app: JS and CSS, raw and gzipped, in total and
 * for the first load (what index.html references; admin pages are loaded on first use).
 */
export function pageWeight(): { js: number; jsGzip: number; css: number; cssGzip: number; initialJsGzip: number; initialCssGzip: number } {
  const assets = path.join(WEB_DIST_DIR, 'assets');
  const index = readFileSync(path.join(WEB_DIST_DIR, 'index.html'), 'utf8');
  const weight = { js: 0, jsGzip: 0, css: 0, cssGzip: 0, initialJsGzip: 0, initialCssGzip: 0 };
  for (const file of readdirSync(assets)) {
    const bytes = readFileSync(path.join(assets, file));
    const gz = gzipSync(bytes, { level: 9 }).length;
    const initial = index.includes(`/assets/${file}`);
    if (file.endsWith('.js')) {
      weight.js += bytes.length;
      weight.jsGzip += gz;
      if (initial) weight.initialJsGzip += gz;
    } else if (file.endsWith('.css')) {
      weight.css += bytes.length;
      weight.cssGzip += gz;
      if (initial) weight.initialCssGzip += gz;
    }
  }
  return weight;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
