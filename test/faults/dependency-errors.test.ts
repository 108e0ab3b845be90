/**
 * Which failures answer 503 (a dependency is unreachable) and which stay a 500 (a bug):
 * src/health/dependency-errors.ts, fed with errors produced by real drivers against real
 * servers and real closed ports, not hand-made objects.
 */
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { createDatabase } from '../../src/db/knex';
import { isDatabaseUnavailable, isTemporalUnavailable } from '../../src/health/dependency-errors';
import { freePort } from '../../src/ports';
import { createTestDatabase } from '../support/environment';

async function errorOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('faults: classifying dependency failures', () => {
  it('when nothing listens on the PostgreSQL port, then the query error counts as "database unavailable"', async () => {
    const db = createDatabase(`postgres://inbox:inbox@127.0.0.1:${await freePort()}/nothing`, 1);
    try {
      const started = Date.now();
      const error = await errorOf(() => db.raw('select 1'));
      assert.ok(Date.now() - started < 2_000, 'a refused connection fails at once');
      assert.equal(isDatabaseUnavailable(error), true, String(error));
      assert.equal(isTemporalUnavailable(error), false);
    } finally {
      await db.destroy();
    }
  });

  it('when PostgreSQL answers with an SQL error, then it is not "unavailable" (it stays a 500)', async () => {
    const { db } = await createTestDatabase();
    const error = await errorOf(() => db.raw('select * from no_such_table'));
    assert.equal(isDatabaseUnavailable(error), false, String(error));
    const division = await errorOf(() => db.raw(`select 1/0`));
    assert.equal(isDatabaseUnavailable(division), false, String(division));
  });

  it('when nothing listens on the Temporal port, then the call error counts as "temporal unavailable"', async () => {
    // Without the SDK's retry interceptor: no retry timer may outlive the test and fire on the closed channel.
    const client = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] }) });
    try {
      const error = await errorOf(() => client.connection.withDeadline(Date.now() + 500, () => client.workflowService.getSystemInfo({})));
      assert.equal(isTemporalUnavailable(error), true, String(error));
      assert.equal(isDatabaseUnavailable(error), false, String(error));
    } finally {
      await client.connection.close();
    }
  });

  it('when the error is an ordinary bug, then it is neither', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    assert.equal(isDatabaseUnavailable(bug), false);
    assert.equal(isTemporalUnavailable(bug), false);
  });
});
