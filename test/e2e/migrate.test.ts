/**
 * Migrations as a deployment step of their own (`npm run migrate`, src/migrate.ts): safe when
 * two run at once on a fresh database; roles worker and api never migrate and refuse to
 * start on a schema that is behind them, naming what to run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureDatabase } from '../../src/db/embedded-postgres';
import { assertSchemaCurrent, createDatabase, type Database, pendingMigrations, SchemaBehindError } from '../../src/db/knex';
import { migrations } from '../../src/db/migrations';
import { freePort } from '../../src/ports';
import { createTestDatabase } from '../support/environment';

const ROOT = path.resolve(__dirname, '..', '..');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<Exit> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} still running after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('migrations as their own step (npm run migrate)', function () {
  this.timeout(180_000);
  let adminUrl: string;
  const opened: Database[] = [];
  const dirs: string[] = [];

  /** A database with no schema at all. */
  async function freshDatabase(): Promise<{ url: string; db: Database }> {
    const name = `fresh_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    await ensureDatabase(adminUrl, name);
    const url = adminUrl.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
    const db = createDatabase(url, 4);
    opened.push(db);
    return { url, db };
  }

  before(async () => {
    const { url } = await createTestDatabase();
    adminUrl = url.replace(/\/[^/?]+(\?|$)/, '/postgres$1');
  });
  after(async () => {
    await Promise.all(opened.map((db) => db.destroy()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('when two `npm run migrate` run at once on a fresh database, then both exit 0 and the schema is migrated once', async () => {
    const { url, db } = await freshDatabase();
    const env = { DATABASE_URL: url, LOG_LEVEL: 'warn' };
    const [a, b] = await Promise.all([run('npm', ['run', '--silent', 'migrate'], env), run('npm', ['run', '--silent', 'migrate'], env)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const said = [a.stdout, b.stdout].sort();
    // One applied them all; the other waited for the lock and found nothing to do.
    assert.match(said[0], new RegExp(`^applied ${migrations.length} migration\\(s\\) in \\d+ ms: ${migrations.map((m) => m.name).join(', ')}\\n$`));
    assert.match(said[1], /^the schema is up to date \(nothing to apply/);
    const rows = (await db('knex_migrations').select('name', 'batch').orderBy('id')) as { name: string; batch: number }[];
    assert.deepEqual(
      rows.map((r) => r.name),
      migrations.map((m) => m.name),
      'each migration once, in order',
    );
    assert.deepEqual([...new Set(rows.map((r) => r.batch))], [1], 'one batch');
    assert.deepEqual(await pendingMigrations(db), []);
    const [lock] = (await db('knex_migrations_lock').select('is_locked')) as { is_locked: number }[];
    assert.equal(lock.is_locked, 0, "knex's lock released");
    // And once more, later: nothing to do, exit 0.
    const again = await run('npm', ['run', '--silent', 'migrate'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^the schema is up to date/);
  });

  it('when an API or a worker starts on a schema that is behind, then it exits non-zero naming the pending migration and `npm run migrate`, and migrates nothing', async () => {
    const { url, db } = await freshDatabase();
    // The schema of the previous version: every migration but the last.
    for (let i = 0; i < migrations.length - 1; i++) await db.migrate.up();
    const last = migrations.at(-1)!.name;
    assert.deepEqual(await pendingMigrations(db), [last]);

    const start = async (role: 'api' | 'worker') => {
      const dataDir = mkdtempSync(path.join(tmpdir(), `inbox-autopilot-migrate-${role}-`));
      dirs.push(dataDir);
      return run(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
        DATABASE_URL: url,
        // Never reached: the schema check comes first.
        TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        METRICS_PORT: String(await freePort()),
        API_KEYS: 'migrate-test-key',
        WHATSAPP_APP_SECRET: 'migrate-test-secret',
        WHATSAPP_VERIFY_TOKEN: 'migrate-test-verify',
        ADMIN_PASSWORD: 'migrate-test-admin-password',
        LOG_LEVEL: 'warn',
      });
    };
    const [api, worker] = await Promise.all([start('api'), start('worker')]);
    for (const [role, exit] of [
      ['api', api],
      ['worker', worker],
    ] as const) {
      assert.notEqual(exit.code, 0, `${role} exited ${exit.code}`);
      assert.ok(exit.stderr.includes(last), `${role} names ${last}: ${exit.stderr}`);
      assert.ok(exit.stderr.includes('npm run migrate'), `${role} says to run npm run migrate: ${exit.stderr}`);
      assert.ok(!/\n\s+at /.test(exit.stderr), `${role}: a message, not a stack trace: ${exit.stderr}`);
    }
    assert.deepEqual(await pendingMigrations(db), [last], 'neither migrated');

    // After the migration step, the check passes.
    const migrated = await run('npm', ['run', '--silent', 'migrate'], { DATABASE_URL: url, LOG_LEVEL: 'warn' });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(migrated.stdout, `applied 1 migration(s) in ${/in (\d+ ms)/.exec(migrated.stdout)?.[1]}: ${last}\n`);
    await assertSchemaCurrent(db);
  });

  it('when the database is ahead of the code (the next version migrated, this one still running), then the check lets it start', async () => {
    const { db } = await freshDatabase();
    await db.migrate.latest();
    await db('knex_migrations').insert({ name: '9999_from_the_next_version', batch: 2, migration_time: new Date() });
    await assertSchemaCurrent(db);
    await db('knex_migrations').where({ name: migrations[2].name }).delete();
    await assert.rejects(assertSchemaCurrent(db), (error: Error) => error instanceof SchemaBehindError && error.message.includes(migrations[2].name));
  });
});
