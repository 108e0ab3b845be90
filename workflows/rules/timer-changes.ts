/**
 * What became of each timer across one step of the rules, for the conversation's timeline
 * (SPEC §6: "timer armed, re-armed, cancelled or fired"). Timers are not stored anywhere:
 * they are derived from the state by `dueTimers`, so their changes are derived too, by
 * comparing the armed timers before and after a step.
 */
import { type ConversationState, type TimerRule, dueTimers } from './conversation-machine';

export const TIMER_CHANGE_KINDS = ['armed', 'rearmed', 'cancelled', 'fired'] as const;
export type TimerChangeKind = (typeof TIMER_CHANGE_KINDS)[number];

export interface TimerChange {
  change: TimerChangeKind;
  rule: TimerRule;
  /** When the timer is (or was) due, epoch ms. */
  dueAt: number;
  /** For a re-armed timer: when it was due before. */
  previousDueAt?: number;
  /** When the change was decided, epoch ms (workflow time). */
  at: number;
}

/**
 * `before` is null when the conversation has just been opened. A timer that disappears in
 * a step that let time act (`timeFired`, the rules' tick) and was due by `now` fired; any
 * other timer that disappears was cancelled (a reply, a close, a setting turned off). One
 * that was due and is due again later fired and was armed for its next turn.
 */
export function timerChanges(before: ConversationState | null, after: ConversationState, now: number, timeFired: boolean): TimerChange[] {
  const previous = new Map(before ? dueTimers(before).map((t) => [t.rule, t.at]) : []);
  const current = new Map(dueTimers(after).map((t) => [t.rule, t.at]));
  const changes: TimerChange[] = [];
  for (const [rule, dueAt] of previous) {
    if (current.has(rule)) continue;
    changes.push({ change: timeFired && dueAt <= now ? 'fired' : 'cancelled', rule, dueAt, at: now });
  }
  for (const [rule, dueAt] of current) {
    const was = previous.get(rule);
    if (was === undefined) changes.push({ change: 'armed', rule, dueAt, at: now });
    // A recurring timer (R15's position updates) that fired is armed again for its next turn.
    else if (was !== dueAt && timeFired && was <= now)
      changes.push({ change: 'fired', rule, dueAt: was, at: now }, { change: 'armed', rule, dueAt, at: now });
    else if (was !== dueAt) changes.push({ change: 'rearmed', rule, dueAt, previousDueAt: was, at: now });
  }
  return changes;
}
