/**
 * A postmaster SIGKILLed together with `npm start` stays a zombie until whoever adopted it
 * collects it (some container inits do so only every few seconds), and PostgreSQL takes a
 * zombie's pid in postmaster.pid for a postmaster still running. The next start must wait
 * for it rather than fail with "lock file already exists" (seen in the supervision test's
 * SIGKILL of every process).
 *
 * Real parts: embedded PostgreSQL on a data directory of the test's own, and a real zombie
 * process (a shell's finished background child, never waited for until the shell exits).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { createDatabase } from '../../src/db/knex';
import { freePort } from '../../src/ports';
import { isZombie } from '../../src/supervision/orphan-guard';
import { testLog } from '../support/environment';

/**
 * As root, PostgreSQL runs as the postgres user, and it takes a process of another user in
 * postmaster.pid for no postmaster of its own (kill answers EPERM): the zombie must be the
 * postgres user's, as a killed postmaster is.
 */
function postmasterUser(): { uid: number; gid: number } | object {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A zombie for about `seconds`: the background child ends after 0.3 s, by when the shell has
 * exec'd `sleep`, which never waits for it. (A child that ended at once could be collected by
 * the shell itself before its exec, on a busy machine: no zombie at all.)
 */
async function zombieFor(seconds: number): Promise<{ pid: number; collected: Promise<number> }> {
  const shell = spawn('sh', ['-c', `sleep 0.3 & echo $!; exec sleep ${seconds}`], { ...postmasterUser(), stdio: ['ignore', 'pipe', 'inherit'] });
  const collected = new Promise<number>((resolve) => shell.once('exit', () => resolve(Date.now())));
  const pid = await new Promise<number>((resolve) => shell.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  for (let i = 0; i < 100 && !isZombie(pid); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(isZombie(pid), `pid ${pid} is a zombie`);
  return { pid, collected };
}

describe('faults: a killed postmaster not yet collected (a zombie) holds the data directory', function () {
  this.timeout(120_000);
  let dataDir = '';

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-zombie-pg-'));
    const first = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'inbox_autopilot', log: testLog });
    await first.stop();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when postmaster.pid names a zombie, then the next start waits until it is collected and PostgreSQL starts', async () => {
    const databaseDir = path.join(dataDir, 'postgres');
    assert.ok(existsSync(path.join(databaseDir, 'PG_VERSION')), 'the cluster lives in <data>/postgres');
    const zombie = await zombieFor(3);
    // What a SIGKILLed postmaster leaves: its lock file, naming it.
    writeFileSync(path.join(databaseDir, 'postmaster.pid'), `${zombie.pid}\n${databaseDir}\n`);
    const startedAt = Date.now();
    const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'inbox_autopilot', log: testLog });
    try {
      const collectedAt = await zombie.collected;
      assert.ok(collectedAt >= startedAt, 'the zombie was still there when the start began');
      const db = createDatabase(pg.url, 1);
      try {
        const { rows } = (await db.raw('select 1 as ok')) as { rows: { ok: number }[] };
        assert.equal(rows[0].ok, 1);
      } finally {
        await db.destroy();
      }
      console.log(
        `      zombie postmaster pid ${zombie.pid} collected ${collectedAt - startedAt} ms into the start; PostgreSQL up after ${Date.now() - startedAt} ms`,
      );
    } finally {
      await pg.stop();
    }
  });
});
