import assert from 'node:assert/strict';
import { parseWebhookPayload } from '../../src/whatsapp/webhook-parser';
import { createConversationHarness, eventually, PHONE_NUMBER_ID, type ConversationHarness } from '../support/conversation-harness';

function statusWebhook(wamid: string, status: string, timestamp: number): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'W',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '1', phone_number_id: PHONE_NUMBER_ID },
              statuses: [{ id: wamid, status, timestamp: String(timestamp), recipient_user_id: 'US.EARLY' }],
            },
          },
        ],
      },
    ],
  };
}

describe('a status that arrives before its message’s wamid is stored (time-skipping server)', () => {
  let h: ConversationHarness;
  before(async () => {
    h = await createConversationHarness();
  });
  after(async () => h?.close());

  it('is applied when the send activity stores the wamid', async () => {
    // The fake answers the first send with wamid.FAKE1; Meta's webhooks for it come first.
    const now = Math.floor(Date.now() / 1000);
    await h.intake.accept(parseWebhookPayload(statusWebhook('wamid.FAKE1', 'sent', now)));
    await h.intake.accept(parseWebhookPayload(statusWebhook('wamid.FAKE1', 'delivered', now + 1)));
    await h.run(async () => {
      await h.customerSays('US.EARLY', 'hello');
      const row = await eventually(() => h.db('messages').where({ wamid: 'wamid.FAKE1' }).first(), 10_000, 'auto-reply stored');
      const merged = await eventually(
        async () => {
          const r = await h.db('messages').where({ id: row.id }).first();
          return r.status === 'delivered' ? r : undefined;
        },
        10_000,
        'early statuses applied',
      );
      assert.equal(merged.automation, 'unassigned_reply');
    });
  });
});
