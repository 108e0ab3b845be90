import { ApplicationFailure, Context } from '@temporalio/activity';
import { isWithinServiceWindow, OUTSIDE_SERVICE_WINDOW } from '../workflows/rules/vocabulary';
import { GraphApiError } from '../src/whatsapp/graph-client';
import { recordCondition } from '../src/health/service-conditions';
import { isDatabaseUnavailable } from '../src/health/dependency-errors';
import type { OutboundIntent, OutboundOutcome } from '../src/store';
import { fillQueuePlaceholders, hasQueuePlaceholders, isTemplate, validateReplyContent } from '../src/whatsapp/message-content';
import type { ActivityDeps } from './deps';

/** A message the workflow means to send: the stored intent plus what the R11 check needs. */
export interface OutboundMessageRequest extends OutboundIntent {
  /** Customer's last window-opening message (epoch ms); null if none is known. */
  lastCustomerMessageAt: number | null;
  /** A timer rule's message: the deadline it was due at (epoch ms), for the lateness metric. */
  dueAt?: number;
  /** R15 position update: sent only if the customer's place is now better than this. */
  onlyIfQueuePositionBelow?: number;
}

/** `not_needed`: a position update (R15) whose customer's place has not improved; nothing recorded. */
export type OutboundMessageStatus = 'recorded' | 'accepted' | 'skipped' | 'failed' | 'duplicate' | 'not_needed';

export interface OutboundMessageResult {
  messageId: string | null;
  status: OutboundMessageStatus;
  /** A queue message or position update (R15): the customer's place when it was sent or looked at. */
  queuePosition?: number;
}

const QUEUE_MESSAGES: readonly (string | null)[] = ['queue_reply', 'queue_position'];

/**
 * A write after a send retried while PostgreSQL is unreachable, up to 30 s (within the
 * `whatsapp` profile's 60 s; the activity heartbeats meanwhile).
 */
async function untilRecorded(write: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Meta's advice for the pair rate limit (131056): wait 4^X seconds before retry X. */
const PAIR_LIMIT_BACKOFF_BASE_S = 4;
const PAIR_LIMIT_BACKOFF_MAX_S = 15 * 60;

export function createMessagingActivities({ store, graph, pacer, log, metrics }: ActivityDeps) {
  /** How late a timer's message reaches Meta (or the sandbox record), by rule. */
  function observeLateness(request: OutboundMessageRequest): void {
    if (request.dueAt === undefined || !request.automation) return;
    metrics?.timerLatenessSeconds.observe({ rule: request.automation }, Math.max(0, Date.now() - request.dueAt) / 1000);
  }
  function counted(request: OutboundMessageRequest, result: OutboundMessageResult): OutboundMessageResult {
    metrics?.sends.inc({ outcome: result.status, automation: request.automation ?? 'none' });
    return result;
  }

  /** Writes the outbound row before any network call, so nothing is sent unrecorded; null: a repeated welcome. */
  async function recordIntent(request: OutboundMessageRequest): Promise<{ id: string; status: string } | null> {
    return store.messages.recordOutboundIntent(request);
  }

  /**
   * R15: a queue message's {{position}} and {{ahead}}, as the queue stands now. A retried
   * attempt fills them again before finding its row: the row keeps what it first recorded,
   * and only a send that never reached Meta can go out with newer figures.
   */
  function withQueuePosition(request: OutboundMessageRequest, queue: { position: number; ahead: number } | null): OutboundMessageRequest {
    if (!QUEUE_MESSAGES.includes(request.automation) || !hasQueuePlaceholders(request.message)) return request;
    // No longer queued (served meanwhile): first in line is the truest thing left to say.
    return { ...request, message: fillQueuePlaceholders(request.message, queue ?? { position: 1, ahead: 0 }) };
  }

  async function finish(id: string, outcome: OutboundOutcome): Promise<void> {
    await store.messages.finishOutbound(id, outcome);
  }

  /** The send itself: recorded before Meta is called, so nothing is sent unrecorded. */
  async function send(request: OutboundMessageRequest): Promise<OutboundMessageResult> {
    const row = await recordIntent(request);
    if (!row) return counted(request, { messageId: null, status: 'duplicate' });
    if (row.status !== 'pending') return counted(request, { messageId: row.id, status: row.status as OutboundMessageStatus });

    // R11, checked again at the moment of sending: time has passed since the workflow decided.
    // Templates are the one kind of message WhatsApp delivers outside the window (R16).
    if (!isTemplate(request.message) && !isWithinServiceWindow(request.lastCustomerMessageAt, Date.now())) {
      await finish(row.id, { status: 'skipped', skipReason: OUTSIDE_SERVICE_WINDOW });
      return counted(request, { messageId: row.id, status: 'skipped' });
    }
    // Settings and replies were validated on save; this catches anything older or hand-made
    // before Meta turns it into a final error #100.
    // Replies and the survey template (R16) may be templates; settings decide where one may be configured.
    const content = validateReplyContent(request.message);
    if (!content.ok) {
      await finish(row.id, { status: 'failed', error: { code: 'invalid_content', issues: content.issues } });
      return counted(request, { messageId: row.id, status: 'failed' });
    }
    if (!graph) {
      observeLateness(request);
      log.info(
        {
          messageId: row.id,
          conversationId: request.conversationId,
          automation: request.automation,
          author: request.author,
          message: request.message,
        },
        'sandbox: outbound message recorded, not sent',
      );
      await finish(row.id, { status: 'recorded' });
      return counted(request, { messageId: row.id, status: 'recorded' });
    }
    const contact = await store.contacts.get(request.contactId);
    await pacer.waitForSlot(request.phoneNumberId, request.contactId);
    if (Context.current().info.attempt === 1) observeLateness(request);
    try {
      const { wamid } = await graph.sendMessage(
        request.phoneNumberId,
        { waId: contact?.waId ?? null, userId: contact?.userId ?? null },
        request.message,
      );
      // Meta has the message now: its outcome must be recorded, or a retry of this activity
      // would send it a second time. PostgreSQL restarting meanwhile is waited for.
      await untilRecorded(() => finish(row.id, { status: 'accepted', wamid }));
      await store.webhookEvents.applyRecordedStatuses(row.id, wamid);
      await recordCondition(store.serviceConditions, 'whatsapp_token', 'ok');
      return counted(request, { messageId: row.id, status: 'accepted' });
    } catch (error) {
      if (!(error instanceof GraphApiError)) throw error;
      if (!error.retryable) {
        if (error.isTokenProblem) {
          log.error(
            { code: error.code, details: error.details },
            'WhatsApp rejected the access token: set a valid WHATSAPP_ACCESS_TOKEN; messages fail until then',
          );
          await recordCondition(store.serviceConditions, 'whatsapp_token', 'rejected', error.toJSON());
        }
        await finish(row.id, { status: 'failed', error: error.toJSON() });
        return counted(request, { messageId: row.id, status: 'failed' });
      }
      log.warn({ code: error.code, attempt: Context.current().info.attempt }, 'WhatsApp send will be retried');
      metrics?.sends.inc({ outcome: 'retried', automation: request.automation ?? 'none' });
      throw ApplicationFailure.create({
        type: `GraphApi.${error.errorClass}`,
        message: error.message,
        details: [error.toJSON()],
        nextRetryDelay:
          error.code === 131056
            ? `${Math.min(PAIR_LIMIT_BACKOFF_BASE_S ** (Context.current().info.attempt - 1), PAIR_LIMIT_BACKOFF_MAX_S)} seconds`
            : undefined,
      });
    }
  }

  return {
    async sendMessage(original: OutboundMessageRequest): Promise<OutboundMessageResult> {
      const queue =
        QUEUE_MESSAGES.includes(original.automation) && original.conversationId
          ? await store.conversations.queuePosition(original.conversationId)
          : null;
      if (original.automation === 'queue_position') {
        const bound = original.onlyIfQueuePositionBelow;
        // Served meanwhile, or no better place than the customer last heard: nothing to say.
        if (!queue || (bound !== undefined && queue.position >= bound))
          return { messageId: null, status: 'not_needed', ...(queue && { queuePosition: queue.position }) };
      }
      const request = withQueuePosition(original, queue);
      const result = await send(request);
      return queue ? { ...result, queuePosition: queue.position } : result;
    },

    /** R11: an automated message outside the window is recorded with the reason, not sent. */
    async recordSkippedMessage(request: OutboundMessageRequest & { reason: string }): Promise<OutboundMessageResult> {
      const row = await recordIntent(request);
      if (!row) return counted(request, { messageId: null, status: 'duplicate' });
      if (row.status === 'pending') await finish(row.id, { status: 'skipped', skipReason: request.reason });
      return counted(request, { messageId: row.id, status: 'skipped' });
    },
  };
}
