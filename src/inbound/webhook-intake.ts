/**
 * Makes webhook events durable. Meta delivers at least once, unordered and duplicated, so
 * every step is idempotent: the message row is keyed by its wamid. A customer message is
 * stored with what its workflow must receive and handed over afterwards by the inbound
 * relay (inbound-relay.ts), so the webhook answers without waiting for Temporal.
 */
import type { Store } from '../store';
import type { Logger } from '../logger';
import type { InboundMessageEvent, OtherEvent, StatusEvent, WebhookEvent } from '../whatsapp/webhook-events';
import { parseCsatRowId } from '../../workflows/rules/conversation-machine';
import type { InboundRelay } from './inbound-relay';

export interface WebhookIntakeDeps {
  store: Store;
  /** Told when a message awaits hand-over. */
  relay: Pick<InboundRelay, 'nudge'>;
  log: Logger;
}

/** Kinds that are stored but are not the customer writing to us. */
const STORE_ONLY_TYPES = new Set(['reaction', 'system', 'edit', 'revoke']);

/** Our conversation ids; anything else in a survey answer cannot name one (and is no uuid to PostgreSQL). */
const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createWebhookIntake({ store, relay, log }: WebhookIntakeDeps) {
  /** Stores the message once; `delivered` says a workflow already has it. */
  async function storeInbound(event: InboundMessageEvent, conversationId: string | null = null, relayKind: 'conversation' | 'welcome' | null = null) {
    return store.messages.storeInbound({
      phoneNumberId: event.phoneNumberId,
      contact: event.contact,
      conversationId,
      wamid: event.wamid,
      type: event.rawType,
      content: { ...event.content, contextMessageId: event.contextMessageId, referral: event.referral, errors: event.errors },
      raw: event.raw,
      sentAt: event.sentAt,
      relay: relayKind ? { kind: relayKind, opensServiceWindow: event.opensServiceWindow } : undefined,
    });
  }

  async function acceptMessage(event: InboundMessageEvent): Promise<void> {
    // R10 answers a list row; R16's template survey answers with a quick-reply payload.
    const csat =
      event.content.kind === 'list_reply'
        ? parseCsatRowId(event.content.id)
        : event.content.kind === 'template_button'
          ? parseCsatRowId(event.content.payload)
          : null;
    if (csat) return acceptSurveyAnswer(event, csat);

    const relayKind = event.type === 'request_welcome' ? 'welcome' : STORE_ONLY_TYPES.has(event.type) ? null : 'conversation';
    const stored = await storeInbound(event, null, relayKind);
    if (stored.delivered) return;
    // Stored only: nothing for a workflow.
    if (relayKind === null) await store.messages.markDeliveredToWorkflow(stored.messageId);
    else relay.nudge();
  }

  /** R10: recorded once against the closed conversation; never opens a new one. */
  async function acceptSurveyAnswer(event: InboundMessageEvent, answer: { conversationId: string; score: number }): Promise<void> {
    const conversation = CONVERSATION_ID.test(answer.conversationId)
      ? await store.conversations.findOnNumber(answer.conversationId, event.phoneNumberId)
      : null;
    const stored = await storeInbound(event, conversation?.id ?? null);
    if (conversation) {
      await store.csat.record({
        conversationId: conversation.id,
        phoneNumberId: event.phoneNumberId,
        agentId: conversation.agentId,
        score: answer.score,
        wamid: event.wamid,
        answeredAt: event.sentAt,
      });
    } else {
      log.warn({ wamid: event.wamid }, 'survey answer for an unknown conversation; stored only');
    }
    await store.messages.markDeliveredToWorkflow(stored.messageId);
  }

  /** Merged monotonically into its message (delivery-status.ts), or kept until the message is stored. */
  async function acceptStatus(event: StatusEvent): Promise<void> {
    await store.webhookEvents.recordStatus(event);
  }

  async function acceptOther(event: OtherEvent): Promise<void> {
    log.info({ field: event.field, reason: event.reason }, 'webhook event stored, not processed');
    await store.webhookEvents.recordOther(event);
  }

  return {
    /**
     * Resolves once every event is durably stored (customer messages with what the relay
     * hands to their workflows); rejects otherwise, so the receiver answers non-200 and
     * Meta redelivers.
     */
    async accept(events: WebhookEvent[]): Promise<void> {
      // Messages of one contact in Meta's timestamp order; contacts in parallel.
      const byContact = new Map<string, InboundMessageEvent[]>();
      const rest: Promise<void>[] = [];
      for (const event of events) {
        if (event.kind === 'message') {
          const key = `${event.phoneNumberId}|${event.contact.key}`;
          byContact.set(key, [...(byContact.get(key) ?? []), event]);
        } else if (event.kind === 'status') rest.push(acceptStatus(event));
        else rest.push(acceptOther(event));
      }
      const perContact = [...byContact.values()].map(async (messages) => {
        for (const m of messages.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime())) await acceptMessage(m);
      });
      const outcomes = await Promise.allSettled([...perContact, ...rest]);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

export type WebhookIntake = ReturnType<typeof createWebhookIntake>;
