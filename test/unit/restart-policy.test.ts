import assert from 'node:assert/strict';
import pino from 'pino';
import { type ChildExit, DEFAULT_RESTART_POLICY, decideRestart, restartPolicyFromEnv, supervise } from '../../src/supervision/supervisor';

const silent = pino({ level: 'silent' });

describe('supervision: the restart policy', () => {
  const policy = DEFAULT_RESTART_POLICY;

  it('when a child fails for the first time, then it is restarted after 1 s, and each further failure within the window doubles the delay', () => {
    const now = 1_000_000;
    const delays: number[] = [];
    const restarts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const decision = decideRestart(policy, restarts, now + i);
      assert.equal(decision.action, 'restart');
      if (decision.action === 'restart') delays.push(decision.delayMs);
      restarts.push(now + i);
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('when a child has been restarted 5 times within 5 minutes, then the next failure gives up', () => {
    const now = 10_000_000;
    const restarts = [now - 240_000, now - 180_000, now - 120_000, now - 60_000, now - 1_000];
    assert.deepEqual(decideRestart(policy, restarts, now), { action: 'give-up', restarts: 5 });
  });

  it('when the earlier restarts are older than the window, then they are forgotten and the delay starts again at 1 s', () => {
    const now = 10_000_000;
    const restarts = [now - 900_000, now - 800_000, now - 700_000, now - 600_000, now - 301_000];
    assert.deepEqual(decideRestart(policy, restarts, now), { action: 'restart', delayMs: 1_000, attempt: 1 });
  });

  it('when many restarts are allowed, then the delay is capped at 30 s', () => {
    const generous = { ...policy, maxRestarts: 20 };
    const restarts = Array.from({ length: 10 }, (_, i) => 1_000 + i);
    assert.deepEqual(decideRestart(generous, restarts, 2_000), { action: 'restart', delayMs: 30_000, attempt: 11 });
  });

  it('when INBOX_AUTOPILOT_RESTART_POLICY is set, then it overrides the defaults; when it is malformed, then the start fails with its name', () => {
    assert.deepEqual(restartPolicyFromEnv({}), DEFAULT_RESTART_POLICY);
    assert.deepEqual(restartPolicyFromEnv({ INBOX_AUTOPILOT_RESTART_POLICY: '100, 400, 3, 60000' }), {
      baseDelayMs: 100,
      maxDelayMs: 400,
      maxRestarts: 3,
      windowMs: 60_000,
    });
    assert.throws(() => restartPolicyFromEnv({ INBOX_AUTOPILOT_RESTART_POLICY: '1,2' }), /INBOX_AUTOPILOT_RESTART_POLICY/);
  });
});

describe('supervision: supervise()', () => {
  /** A fake child: `die()` makes it exit. */
  const fakeRun = (id: number) => {
    let die!: (exit: ChildExit) => void;
    const exited = new Promise<ChildExit>((resolve) => (die = resolve));
    return { id, exited, die };
  };
  const fast = { baseDelayMs: 10, maxDelayMs: 40, maxRestarts: 3, windowMs: 60_000 };

  it('when the child exits unexpectedly, then a new one is started and becomes current', async () => {
    const runs = [fakeRun(0)];
    const supervision = supervise({
      name: 'the fake child',
      first: runs[0],
      restart: async () => {
        runs.push(fakeRun(runs.length));
        return runs.at(-1)!;
      },
      log: silent,
      policy: fast,
      onGiveUp: () => assert.fail('must not give up'),
    });
    runs[0].die({ code: null, signal: 'SIGKILL' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(supervision.current().id, 1);
    runs[1].die({ code: 1, signal: null });
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(supervision.current().id, 2);
    await supervision.stop();
    runs[2].die({ code: 0, signal: null });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(runs.length, 3, 'no restart after stop');
  });

  it('when every restart fails, then after the allowed restarts it gives up with a message naming the child', async () => {
    const first = fakeRun(0);
    let attempts = 0;
    const gaveUp = new Promise<Error>((resolve) =>
      supervise({
        name: 'the fake child',
        first,
        restart: async () => {
          attempts++;
          throw new Error('port in use');
        },
        log: silent,
        policy: fast,
        onGiveUp: resolve,
      }),
    );
    const started = Date.now();
    first.die({ code: null, signal: 'SIGKILL' });
    const error = await gaveUp;
    assert.equal(attempts, 3);
    assert.match(error.message, /^the fake child keeps failing: restarted 3 times within 1 min/);
    assert.ok(Date.now() - started >= 10 + 20 + 40, 'backed off 10, 20, 40 ms');
  });
});
