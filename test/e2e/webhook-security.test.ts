import assert from 'node:assert/strict';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { E2E_SECRET, type ServiceUnderTest, startServiceUnderTest, textWebhook } from '../support/running-service';

describe('webhook security: rejected requests leave no trace', function () {
  this.timeout(180_000);
  let s: ServiceUnderTest;
  before(async () => {
    s = await startServiceUnderTest();
  });
  after(async () => s?.stop());

  async function assertNoSideEffect(): Promise<void> {
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await s.db('messages').count<{ count: string }[]>('* as count'))[0].count, '0');
    assert.equal((await s.db('contacts').count<{ count: string }[]>('* as count'))[0].count, '0');
    assert.equal((await s.db('webhook_other_events').count<{ count: string }[]>('* as count'))[0].count, '0');
    assert.equal(s.graph.requests.length, 0);
  }

  const body = JSON.stringify(textWebhook({ wamid: 'wamid.SEC-1', from: '15550001111', body: 'hi' }));

  it('answers 401 when the signature header is missing', async () => {
    const response = await s.postWebhook(body, null);
    assert.equal(response.status, 401);
    await assertNoSideEffect();
  });

  it('answers 403 when the signature does not match', async () => {
    assert.equal((await s.postWebhook(body, signWebhookBody(body, 'another-secret'))).status, 403);
    assert.equal((await s.postWebhook(body, 'sha256=deadbeef')).status, 403);
    // Signed over different bytes: re-serialising the JSON must not pass.
    assert.equal((await s.postWebhook(body.replace('"hi"', '"hi "'), signWebhookBody(body, E2E_SECRET))).status, 403);
    await assertNoSideEffect();
  });

  it('answers 400 to a correctly signed body that is not JSON', async () => {
    const malformed = '{"object":"whatsapp_business_account","entry":[';
    const response = await s.postWebhook(malformed, signWebhookBody(malformed, E2E_SECRET));
    assert.equal(response.status, 400);
    await assertNoSideEffect();
  });

  it('answers 403 to a verification with the wrong token', async () => {
    const response = await fetch(`${s.baseUrl}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42`);
    assert.equal(response.status, 403);
    assert.notEqual(await response.text(), '42');
    await assertNoSideEffect();
  });

  it('answers 401 to API calls without a valid key', async () => {
    assert.equal((await s.api('GET', '/conversations', undefined, 'not-a-key')).status, 401);
    const response = await fetch(`${s.baseUrl}/api/conversations`);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'unauthorized');
  });
});
