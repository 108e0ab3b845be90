import assert from 'node:assert/strict';
import { type ServiceUnderTest, startServiceUnderTest } from '../support/running-service';
import { configureRestartNumbers, runRestartCycles } from '../support/restart-scenario';

/**
 * Before the fix about one restart in eight left a conversation's next step 30 s late: a
 * task the server handed to a poll the stopping worker was cancelling waited out its
 * start-to-close timeout. 20 restarts, each catching a conversation in flight at a
 * different moment, make such a regression all but certain to show.
 */
const CYCLES = 20;
/**
 * One lost task per conversation and restart at most (a workflow runs one task at a
 * time), retried after 5 s (workflow task timeout, activity heartbeat timeout), plus
 * scheduling on a busy machine.
 */
const LATENESS_LIMIT_MS = 10_000;

describe('end to end: every process restarted twenty times while timers are pending', function () {
  this.timeout(400_000);
  let s: ServiceUnderTest;
  before(async () => {
    s = await startServiceUnderTest();
    await configureRestartNumbers(s);
  });
  after(async () => s?.stop());

  it('when every process restarts with timers armed or conversations opening, then each timer fires exactly once and within seconds of when it could', async () => {
    const report = await runRestartCycles(s, { cycles: CYCLES, replyWithinMs: 30_000 });
    assert.equal(report.outcomes.length, CYCLES * 2);
    const missing = report.outcomes.filter((o) => o.replies.length === 0).map((o) => `${o.kind} ${o.customer}`);
    assert.deepEqual(missing, [], 'every conversation got its unassigned reply');
    const doubled = report.outcomes.filter((o) => o.replies.length > 1).map((o) => `${o.kind} ${o.customer} × ${o.replies.length}`);
    assert.deepEqual(doubled, [], 'no conversation got it twice');
    const early = report.outcomes.filter((o) => o.replies[0] < o.dueAt - 1000).map((o) => `${o.kind} ${o.customer}`);
    assert.deepEqual(early, [], 'no reply before its delay');
    const late = report.outcomes
      .filter((o) => o.replies[0] - o.sendableAt > LATENESS_LIMIT_MS)
      .map((o) => `${o.kind} ${o.customer} ${o.replies[0] - o.sendableAt} ms late`);
    assert.deepEqual(late, [], `every reply within ${LATENESS_LIMIT_MS} ms of its deadline, or of the restart it fell in`);
  });
});
