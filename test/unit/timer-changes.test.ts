/**
 * Timer changes for the timeline (SPEC §6), derived from the pure machine's armed timers
 * before and after each step: armed, re-armed, cancelled, fired. No Temporal, no clock.
 */
import assert from 'node:assert/strict';
import { type AutomationSettings, withDefaults } from '../../workflows/rules/automation-settings';
import { type ConversationState, dueTimers, openConversation, step } from '../../workflows/rules/conversation-machine';
import { timerChanges } from '../../workflows/rules/timer-changes';
import { MINUTE, SECOND } from '../../workflows/rules/vocabulary';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const message = { type: 'text', text: { body: 'We will be right with you.' } } as const;

function settings(delaySeconds: number, extra: Partial<AutomationSettings> = {}): AutomationSettings {
  return withDefaults({ unassignedReply: { enabled: true, delaySeconds, message }, ...extra });
}

/** A conversation opened at T0 that routing left unassigned: the unassigned reply is armed. */
function unassigned(delaySeconds: number): ConversationState {
  const opening = openConversation(
    { conversationId: 'c-1', phoneNumberId: 'pn-1', contactId: 'contact-1', settings: settings(delaySeconds), now: T0 },
    { messageId: 'm-1', sentAt: T0, opensServiceWindow: true, isFirstContact: false },
    T0,
  );
  return step(opening.state, { type: 'routed', status: 'unassigned', agentId: null }, T0).state;
}

describe('timerChanges (pure)', () => {
  it('when a conversation is opened and left unassigned, then the unassigned reply is armed at its deadline', () => {
    const state = unassigned(30);
    assert.deepEqual(timerChanges(null, state, T0, false), [{ change: 'armed', rule: 'unassigned_reply', dueAt: T0 + 30 * SECOND, at: T0 }]);
  });

  it('when nothing about the timers changes, then there is no entry', () => {
    const state = unassigned(30);
    const after = step(state, { type: 'tick' }, T0 + 29 * SECOND).state;
    assert.deepEqual(timerChanges(state, after, T0 + 29 * SECOND, true), []);
  });

  it('when a tick comes exactly at the deadline, then the timer fired (not cancelled)', () => {
    const state = unassigned(30);
    const at = T0 + 30 * SECOND;
    const after = step(state, { type: 'tick' }, at).state;
    assert.deepEqual(timerChanges(state, after, at, true), [{ change: 'fired', rule: 'unassigned_reply', dueAt: at, at }]);
  });

  it('when the timer goes away without time acting on it (an agent takes the conversation), then it was cancelled', () => {
    const state = unassigned(30);
    const at = T0 + 10 * SECOND;
    const after = step(state, { type: 'assigned', agentId: 'agent-1' }, at).state;
    const changes = timerChanges(state, after, at, false);
    assert.deepEqual(
      changes.filter((c) => c.rule === 'unassigned_reply'),
      [{ change: 'cancelled', rule: 'unassigned_reply', dueAt: T0 + 30 * SECOND, at }],
    );
  });

  it('when a setting moves the deadline (R12), then the timer is re-armed with both deadlines', () => {
    const state = unassigned(600);
    const at = T0 + MINUTE;
    const after = step(state, { type: 'settings_changed', settings: settings(120) }, at).state;
    assert.deepEqual(timerChanges(state, after, at, false), [
      { change: 'rearmed', rule: 'unassigned_reply', dueAt: T0 + 120 * SECOND, previousDueAt: T0 + 600 * SECOND, at },
    ]);
  });

  it('when a setting turns the rule off, then the timer is cancelled', () => {
    const state = unassigned(600);
    const off = withDefaults({ unassignedReply: { enabled: false, delaySeconds: 600, message } });
    const after = step(state, { type: 'settings_changed', settings: off }, T0 + MINUTE).state;
    assert.deepEqual(
      timerChanges(state, after, T0 + MINUTE, false).map((c) => c.change),
      ['cancelled'],
    );
    assert.deepEqual(dueTimers(after), []);
  });

  it('when the conversation closes with a timer armed, then every armed timer is cancelled', () => {
    const state = unassigned(600);
    const after = step(state, { type: 'close', by: 'admin', agentId: null }, T0 + MINUTE).state;
    assert.deepEqual(
      timerChanges(state, after, T0 + MINUTE, false).map((c) => `${c.change} ${c.rule}`),
      ['cancelled unassigned_reply'],
    );
  });
});
