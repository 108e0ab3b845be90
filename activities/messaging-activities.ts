import { ApplicationFailure, Context } from '@temporalio/activity';
import type { OutboundMessageContent } from '../workflows/rules/automation-settings';
import type { Automation } from '../workflows/rules/conversation-machine';
import { SERVICE_WINDOW_MS } from '../workflows/rules/conversation-machine';
import { GraphApiError } from '../src/whatsapp/graph-client';
import { recordCondition } from '../src/health/service-conditions';
import { applyRecordedStatuses } from '../src/inbound/delivery-status';
import { validateMessageContent } from '../src/whatsapp/message-content';
import type { ActivityDeps } from './deps';

export interface OutboundMessageRequest {
  /** Unique per message the workflow means to send; makes retries send at most once. */
  idempotencyKey: string;
  phoneNumberId: string;
  contactId: string;
  conversationId: string | null;
  author: 'automation' | 'agent' | 'bot';
  automation: Automation | null;
  agentId: string | null;
  message: OutboundMessageContent;
  /** Customer's last window-opening message (epoch ms); null if none is known. */
  lastCustomerMessageAt: number | null;
}

export type OutboundMessageStatus = 'recorded' | 'accepted' | 'skipped' | 'failed' | 'duplicate';

export interface OutboundMessageResult {
  messageId: string | null;
  status: OutboundMessageStatus;
}

/** Meta's advice for the pair rate limit (131056): wait 4^X seconds before retry X. */
const PAIR_LIMIT_BACKOFF_BASE_S = 4;
const PAIR_LIMIT_BACKOFF_MAX_S = 15 * 60;

export function createMessagingActivities({ db, graph, pacer, log }: ActivityDeps) {
  /** Writes the outbound row before any network call, so nothing is sent unrecorded. */
  async function recordIntent(request: OutboundMessageRequest): Promise<{ id: string; status: string } | null> {
    return db.transaction(async (trx) => {
      const existing = await trx('messages').where({ idempotency_key: request.idempotencyKey }).first('id', 'status');
      if (existing) return existing;
      if (request.automation === 'welcome') {
        // R1: the welcome goes to a contact once, whichever event asked for it first.
        const claimed = await trx('contacts').where({ id: request.contactId }).whereNull('welcomed_at').update({ welcomed_at: trx.fn.now() });
        if (claimed === 0) return null;
      }
      const [row] = await trx('messages')
        .insert({
          phone_number_id: request.phoneNumberId,
          contact_id: request.contactId,
          conversation_id: request.conversationId,
          direction: 'outbound',
          author: request.author,
          agent_id: request.agentId,
          automation: request.automation,
          idempotency_key: request.idempotencyKey,
          type: request.message.type,
          content: JSON.stringify(request.message),
          status: 'pending',
          sent_at: trx.fn.now(),
        })
        .returning(['id', 'status']);
      return row;
    });
  }

  async function finish(id: string, fields: Record<string, unknown>): Promise<void> {
    await db('messages')
      .where({ id })
      .update({ ...fields, status_at: db.fn.now() });
  }

  return {
    async sendMessage(request: OutboundMessageRequest): Promise<OutboundMessageResult> {
      const row = await recordIntent(request);
      if (!row) return { messageId: null, status: 'duplicate' };
      if (row.status !== 'pending') return { messageId: row.id, status: row.status as OutboundMessageStatus };

      // R11, checked again at the moment of sending: time has passed since the workflow decided.
      if (request.lastCustomerMessageAt === null || Date.now() - request.lastCustomerMessageAt > SERVICE_WINDOW_MS) {
        await finish(row.id, { status: 'skipped', skip_reason: 'outside the 24-hour customer-service window' });
        return { messageId: row.id, status: 'skipped' };
      }
      // Settings and replies were validated on save; this catches anything older or hand-made
      // before Meta turns it into a final error #100.
      const content = validateMessageContent(request.message);
      if (!content.ok) {
        await finish(row.id, { status: 'failed', error: JSON.stringify({ code: 'invalid_content', issues: content.issues }) });
        return { messageId: row.id, status: 'failed' };
      }
      if (!graph) {
        log.info({ messageId: row.id, conversationId: request.conversationId, automation: request.automation, author: request.author, message: request.message }, 'sandbox: outbound message recorded, not sent');
        await finish(row.id, { status: 'recorded' });
        return { messageId: row.id, status: 'recorded' };
      }
      const contact = await db('contacts').where({ id: request.contactId }).first('wa_id', 'user_id');
      await pacer.waitForSlot(request.phoneNumberId, request.contactId);
      try {
        const { wamid } = await graph.sendMessage(request.phoneNumberId, { waId: contact?.wa_id ?? null, userId: contact?.user_id ?? null }, request.message);
        await finish(row.id, { status: 'accepted', wamid });
        await applyRecordedStatuses(db, row.id, wamid);
        await recordCondition(db, 'whatsapp_token', 'ok');
        return { messageId: row.id, status: 'accepted' };
      } catch (error) {
        if (!(error instanceof GraphApiError)) throw error;
        if (!error.retryable) {
          if (error.isTokenProblem) {
            log.error({ code: error.code, details: error.details }, 'WhatsApp rejected the access token: set a valid WHATSAPP_ACCESS_TOKEN; messages fail until then');
            await recordCondition(db, 'whatsapp_token', 'rejected', error.toJSON());
          }
          await finish(row.id, { status: 'failed', error: JSON.stringify(error.toJSON()) });
          return { messageId: row.id, status: 'failed' };
        }
        log.warn({ code: error.code, attempt: Context.current().info.attempt }, 'WhatsApp send will be retried');
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
    },

    /** R11: an automated message outside the window is recorded with the reason, not sent. */
    async recordSkippedMessage(request: OutboundMessageRequest & { reason: string }): Promise<OutboundMessageResult> {
      const row = await recordIntent(request);
      if (!row) return { messageId: null, status: 'duplicate' };
      if (row.status === 'pending') await finish(row.id, { status: 'skipped', skip_reason: request.reason });
      return { messageId: row.id, status: 'skipped' };
    },
  };
}
