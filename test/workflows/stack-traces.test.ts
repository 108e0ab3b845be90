/**
 * TEMPORAL_WORKFLOW_STACK_TRACES (src/temporal/worker.ts, patches/): on by default, as the
 * SDK has it, the Web UI's Stack Trace tab shows where a running conversation waits; off,
 * the worker does without the SDK's promise hook (about a third less CPU per replay, `npm run
 * bench -- replay`) and the tab says why it is empty. Both through the real stack-trace
 * query of a conversation waiting for its reply timer.
 */
import assert from 'node:assert/strict';
import { conversationStateQuery } from '../../workflows/conversation/contract';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';

/** The query the Web UI's Stack Trace tab sends to a running workflow. */
const STACK_TRACE_QUERY = '__stack_trace';

async function waitingConversation(h: ConversationHarness, contactKey: string) {
  await h.customerSays(contactKey, 'Hello');
  const conversation = await eventually(() => h.db('conversations').first(), 20_000, 'the conversation');
  const handle = h.env.client.workflow.getHandle(conversation.workflow_id);
  await eventually(async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.timerStartedEventAttributes), 20_000, 'the timer');
  return handle;
}

/** A harness whose worker has the given setting, with the reply an hour away so conversations wait. */
function harnessWith(options: { workflowStackTraces?: boolean }) {
  const harness = { h: null as unknown as ConversationHarness };
  before(async () => {
    harness.h = await createConversationHarness(options);
    await harness.h.saveSettings({ unassignedReply: { enabled: true, delaySeconds: 3600, message: { type: 'text', text: { body: 'Soon.' } } } });
  });
  after(async () => harness.h?.close());
  return harness;
}

describe('workflow stack traces on (the default) (time-skipping server)', () => {
  const harness = harnessWith({});

  it('when an operator opens the Stack Trace tab of a waiting conversation, then it shows the conversation workflow waiting in its main loop', async () => {
    const { h } = harness;
    await h.run(async () => {
      const handle = await waitingConversation(h, 'US.STACKON');
      const stack = await handle.query<string>(STACK_TRACE_QUERY);
      assert.match(stack, /conversationWorkflow/);
      assert.match(stack, /workflows\/conversation\/conversation-workflow\.ts/);
    });
  });
});

describe('workflow stack traces off (time-skipping server)', () => {
  const harness = harnessWith({ workflowStackTraces: false });

  it('when an operator opens the Stack Trace tab of a waiting conversation, then it answers that stack traces are off on this worker, and the conversation goes on', async () => {
    const { h } = harness;
    await h.run(async () => {
      const handle = await waitingConversation(h, 'US.STACKOFF');
      await assert.rejects(handle.query<string>(STACK_TRACE_QUERY), /Workflow stack traces are not enabled on this worker/);
      const state = await handle.query(conversationStateQuery);
      assert.equal(state?.status, 'unassigned');
    });
  });
});
