import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Context } from '@temporalio/activity';
import { createLogger, withLogContext } from '../../src/logger';
import { ActivityLogContext } from '../../src/temporal/activity-log-context';
import { levelFor } from '../../src/temporal/runtime-logging';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger('debug', 'json', stream) };
}

const activityContext = (workflowId: string) =>
  ({ info: { workflowExecution: { workflowId, runId: 'run-1' }, activityType: 'sendMessage', attempt: 2 } }) as unknown as Context;

describe('logs', () => {
  it('when an activity logs through the service logger, then the line carries its workflow, activity, attempt and conversation', async () => {
    const { lines, log } = capture();
    const interceptor = new ActivityLogContext(activityContext('conversation:106540352242922:c-1'));
    await interceptor.execute({ args: [{ conversationId: 'b5e1…', other: 1 }], headers: {} }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      log.info({ wamid: 'wamid.X' }, 'sent');
    });
    log.info('outside');
    assert.deepEqual(
      { ...lines[0], time: undefined },
      {
        level: 30,
        time: undefined,
        workflowId: 'conversation:106540352242922:c-1',
        activity: 'sendMessage',
        attempt: 2,
        conversationId: 'b5e1…',
        wamid: 'wamid.X',
        msg: 'sent',
      },
    );
    assert.equal(lines[1].workflowId, undefined, 'the context ends with the activity');
  });

  it('when an activity starts inside another log context (an HTTP request), then its lines carry the activity only', async () => {
    const { lines, log } = capture();
    const interceptor = new ActivityLogContext(activityContext('conversation:1:c-2'));
    await withLogContext({ requestId: 'req-1' }, () =>
      interceptor.execute({ args: [{ conversationId: 'c-2' }], headers: {} }, async () => log.info('inside')),
    );
    assert.equal(lines[0].workflowId, 'conversation:1:c-2');
    assert.equal('requestId' in lines[0], false, 'the request that happened to schedule the activity is not its context');
  });

  it('when an activity input names no conversation, then the line carries the workflow only', async () => {
    const { lines, log } = capture();
    await new ActivityLogContext(activityContext('welcome:1:c')).execute({ args: [{ conversationId: null }], headers: {} }, async () =>
      log.warn('no conversation'),
    );
    assert.equal(lines[0].workflowId, 'welcome:1:c');
    assert.equal('conversationId' in lines[0] && lines[0].conversationId !== undefined, false);
  });

  it('when the Temporal SDK logs, then its own INFO chatter is debug while workflow and activity logs keep their level', () => {
    assert.equal(levelFor({ level: 'INFO', meta: { sdkComponent: 'worker' } }), 'debug');
    assert.equal(levelFor({ level: 'INFO', meta: {} }), 'debug');
    assert.equal(levelFor({ level: 'INFO', meta: { sdkComponent: 'workflow' } }), 'info');
    assert.equal(levelFor({ level: 'INFO', meta: { sdkComponent: 'activity' } }), 'info');
    assert.equal(levelFor({ level: 'WARN', meta: { sdkComponent: 'worker' } }), 'warn');
    assert.equal(levelFor({ level: 'ERROR', meta: { sdkComponent: 'core' } }), 'error');
  });
});
