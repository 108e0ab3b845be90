/**
 * The conversation timeline (SPEC §6) in words: each entry says what was decided, by whom
 * and why, as an agent would say it.
 */
import { type TimelineEntry, formatTime } from './api';

const RULE_NAMES: Record<string, string> = {
  unassigned_reply: 'Unassigned reply',
  queue_reply: 'Queue message',
  queue_position: 'Queue position update',
  out_of_office: 'Out-of-office message',
  reminder: 'Reminder',
  reassign: 'Reassignment',
  auto_close: 'Auto-close',
  bot_timeout: 'Bot inactivity close',
  welcome: 'Welcome message',
  csat: 'Satisfaction survey',
};

const ROUTING_REASONS: Record<string, string> = {
  last_agent: 'the agent who served this customer last',
  least_loaded: 'the least loaded online agent',
  queued: 'every online agent is at their limit',
  queue_drain: 'first in the queue when an agent had room',
  no_agent_online: 'no agent is online',
  manual: 'this number routes manually',
  bot: 'this number starts with the bot',
  claimed: 'claimed',
  transferred: 'transferred',
  reassigned: 'taken from an agent who did not reply in time',
  agent_offline: 'taken from an agent who went offline',
};

const CLOSE_REASONS: Record<string, string> = {
  agent: 'by the agent',
  admin: 'by an admin',
  auto_close: 'automatically: the customer did not reply',
  bot_timeout: 'automatically: the bot conversation was inactive for 10 minutes',
  bot_completed: 'by the bot',
};

const ACTIONS: Record<string, string> = {
  claim: 'Claim',
  assign: 'Transfer',
  reply: 'Reply',
  close: 'Close',
  bot_reply: 'Bot reply',
  bot_handover: 'Bot handover',
  bot_complete: 'Bot completion',
};

export function ruleName(rule: unknown): string {
  const key = String(rule ?? '');
  return RULE_NAMES[key] ?? key.replace(/_/g, ' ');
}

/** Who made the decision: a person, an API key, or the rules. */
export function actorOf(entry: TimelineEntry): string {
  const actor = entry.actor as { type?: string; login?: string; name?: string } | undefined;
  if (!actor || actor.type === 'automation') return 'automation';
  if (actor.type === 'user') return actor.login ?? 'a user';
  if (actor.type === 'key') return `API key ${actor.name ?? ''}`.trim();
  return String(actor.type ?? 'unknown');
}

export function describeTimeline(e: TimelineEntry): string {
  const agent = (id: unknown) => (id ? String(id) : 'nobody');
  const at = (iso: unknown) => (typeof iso === 'string' ? formatTime(iso, true) : '');
  switch (e.kind) {
    case 'opened':
      return 'Conversation opened';
    case 'message_received':
      return `Customer message received${e.type && e.type !== 'text' ? ` (${String(e.type)})` : ''}`;
    case 'routed': {
      const reason = ROUTING_REASONS[String(e.reason ?? '')] ?? (e.reason ? String(e.reason).replace(/_/g, ' ') : '');
      const outcome =
        e.status === 'assigned'
          ? `Assigned to ${agent(e.agentId)}`
          : e.status === 'queued'
            ? 'Put in the queue'
            : e.status === 'bot'
              ? 'Handed to the bot'
              : e.status === 'unassigned'
                ? 'Left unassigned'
                : `Routed: ${String(e.status)}`;
      return reason && e.reason !== 'claimed' && e.reason !== 'transferred'
        ? `${outcome}: ${reason}`
        : e.reason === 'claimed'
          ? `Claimed by ${agent(e.agentId)}`
          : outcome;
    }
    case 'transferred':
      // R13: a reassignment straight to another agent is recorded as a transfer with its reason.
      return e.reason === 'reassigned' || e.reason === 'agent_offline'
        ? `Reassigned from ${agent(e.previousAgentId)} to ${agent(e.agentId)}: ${ROUTING_REASONS[String(e.reason)]}`
        : `Transferred from ${agent(e.previousAgentId)} to ${agent(e.agentId)}`;
    case 'timer_armed':
      return `${ruleName(e.rule)} timer armed, due ${at(e.dueAt)}`;
    case 'timer_rearmed':
      return `${ruleName(e.rule)} timer re-armed: due ${at(e.dueAt)} instead of ${at(e.previousDueAt)}`;
    case 'timer_cancelled':
      return `${ruleName(e.rule)} timer cancelled (was due ${at(e.dueAt)})`;
    case 'timer_fired':
      return `${ruleName(e.rule)} timer fired (due ${at(e.dueAt)})`;
    case 'automated_message_sent':
      return `${ruleName(e.automation)} sent`;
    case 'automated_message_skipped':
      return `${ruleName(e.automation)} skipped: ${String(e.skipReason ?? 'no reason recorded')}`;
    case 'automated_message_failed':
      return `${ruleName(e.automation)} failed${errorText(e.error)}`;
    case 'reply_sent':
      return e.status === 'failed'
        ? `Reply by ${agent(e.agentId ?? e.author)} failed${errorText(e.error)}`
        : `Reply sent by ${agent(e.agentId ?? e.author)}`;
    case 'closed':
      return `Closed ${CLOSE_REASONS[String(e.closeReason ?? '')] ?? String(e.closeReason ?? '')}`.trim();
    case 'survey_answered':
      return `Survey answered: ${String(e.score)} of 5`;
    case 'action': {
      const action = ACTIONS[String(e.action ?? '')] ?? String(e.action ?? 'action').replace(/_/g, ' ');
      const by = actorOf(e);
      return `${action} requested${e.agentId && e.agentId !== by ? ` for ${String(e.agentId)}` : ''}`;
    }
    default:
      return String(e.kind ?? 'event').replace(/_/g, ' ');
  }
}

function errorText(error: unknown): string {
  if (!error) return '';
  if (typeof error === 'string') return `: ${error}`;
  const e = error as { code?: unknown; message?: unknown; title?: unknown };
  const text = [e.code, e.message ?? e.title].filter(Boolean).join(' ');
  return text ? `: ${text}` : '';
}
