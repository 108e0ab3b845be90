import assert from 'node:assert/strict';
import { readConditions } from '../../src/health/service-conditions';
import { classifyGraphErrorCode } from '../../src/whatsapp/graph-client';
import { graphError } from '../support/fake-graph-api';
import { createConversationHarness, eventually, type ConversationHarness } from '../support/conversation-harness';

/**
 * SPEC §5 error handling by Graph `error.code`, against the fake Graph API over HTTP:
 * rate limits and transient errors are retried with backoff, the rest are final and
 * recorded on the message, never retried.
 */
describe('Cloud API errors (time-skipping server, fake Graph API)', () => {
  let h: ConversationHarness;
  before(async () => {
    h = await createConversationHarness();
  });
  after(async () => h?.close());

  /** Scripts the fake to answer `code` for the first `times` sends to `to`. */
  function failFirst(recipient: string, code: number, times: number): void {
    let failures = 0;
    h.graph.respondWith((r) => {
      if (!r.path.endsWith('/messages') || r.body.recipient !== recipient || failures >= times) return undefined;
      failures += 1;
      return graphError(code, `error ${code}`);
    });
  }

  async function outboundOf(contactKey: string) {
    return eventually(
      async () => {
        const row = await h
          .db('messages as m')
          .join('contacts as c', 'c.id', 'm.contact_id')
          .where({ 'c.identity_key': contactKey, 'm.direction': 'outbound' })
          .whereNotIn('m.status', ['pending'])
          .first('m.*');
        return row ?? undefined;
      },
      20_000,
      `outbound message to ${contactKey}`,
    );
  }

  it('classifies every code the SPEC names', () => {
    for (const code of [130429, 131056, 4, 80007]) assert.equal(classifyGraphErrorCode(code), 'rate_limited', String(code));
    for (const code of [1, 2, 131000, 131016]) assert.equal(classifyGraphErrorCode(code), 'transient', String(code));
    for (const code of [131047, 131026, 131051, 131052, 131053, 100, 190, 368]) assert.equal(classifyGraphErrorCode(code), 'final', String(code));
    // Templates are Meta's (R16): an unknown, unapproved, paused or mis-filled template is final.
    for (const code of [132000, 132001, 132005, 132007, 132012, 132015, 132016, 132068, 132069]) {
      assert.equal(classifyGraphErrorCode(code), 'final', String(code));
    }
  });

  for (const code of [131047, 131026, 131051, 131052, 131053, 100, 368, 132001, 132015]) {
    it(`records ${code} as a final failure and never retries it`, async () => {
      const contact = `US.FINAL${code}`;
      failFirst(contact, code, 1000);
      await h.run(async () => {
        await h.customerSays(contact, 'hello');
        const row = await outboundOf(contact);
        assert.equal(row.status, 'failed');
        assert.equal(row.error.code, code);
        await h.env.sleep(10 * 60_000);
        assert.equal(h.graph.messageRequests().filter((r) => r.body.recipient === contact).length, 1, 'sent once, not retried');
        const conversation = await h.db('conversations').where({ id: row.conversation_id }).first();
        assert.notEqual(conversation.status, 'closed', 'a failed send does not break the conversation');
      });
    });
  }

  for (const code of [130429, 131056, 4, 80007, 1, 2, 131000, 131016]) {
    it(`retries ${code} with backoff until Meta accepts`, async () => {
      const contact = `US.RETRY${code}`;
      failFirst(contact, code, 2);
      await h.run(async () => {
        await h.customerSays(contact, 'hello');
        const row = await eventually(
          async () => {
            await h.env.sleep(30_000);
            const r = await outboundOf(contact);
            return r.status === 'accepted' ? r : undefined;
          },
          30_000,
          'accepted after retries',
        );
        assert.match(row.wamid, /^wamid\.FAKE/);
        assert.equal(h.graph.messageRequests().filter((r) => r.body.recipient === contact).length, 3);
      });
    });
  }

  it('reports a rejected access token (190) on health instead of retrying', async () => {
    const contact = 'US.TOKEN';
    failFirst(contact, 190, 1000);
    await h.run(async () => {
      await h.customerSays(contact, 'hello');
      const row = await outboundOf(contact);
      assert.equal(row.status, 'failed');
      const conditions = await readConditions(h.store.serviceConditions);
      assert.equal(conditions.whatsapp_token?.state, 'rejected');
    });
  });
});
