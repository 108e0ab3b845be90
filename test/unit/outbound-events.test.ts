import assert from 'node:assert/strict';
import { signEvent, verifyEventSignature } from '../../src/outbound/signature';
import { afterFailure, MAX_RETRY_WAIT_MS, RETRY_FOR_MS } from '../../src/outbound/retry-policy';
import { subscriptionUrlProblem } from '../../src/outbound/subscription-url';

describe('outbound events (SPEC §9): signature, retry schedule, subscription URLs', () => {
  describe('signature', () => {
    const secret = 'subscriber-secret-0123';
    const body = '{"id":"evt_1","type":"agent.status","occurredAt":"2026-12-02T10:00:00.000Z","data":{}}';
    const now = new Date('2026-12-02T10:00:05Z');
    const timestamp = String(Math.floor(now.getTime() / 1000) - 5);

    it('when the body, timestamp and secret are those signed, then it verifies', () => {
      const signature = signEvent(secret, timestamp, body);
      assert.match(signature, /^sha256=[0-9a-f]{64}$/);
      assert.equal(verifyEventSignature({ secret, body, timestamp, signature, now }), true);
    });

    it('when one byte of the body, the timestamp or the secret differs, then it does not verify', () => {
      const signature = signEvent(secret, timestamp, body);
      assert.equal(verifyEventSignature({ secret, body: body.replace('agent', 'Agent'), timestamp, signature, now }), false);
      assert.equal(verifyEventSignature({ secret, body, timestamp: String(Number(timestamp) + 1), signature, now }), false);
      assert.equal(verifyEventSignature({ secret: `${secret}x`, body, timestamp, signature, now }), false);
      assert.equal(verifyEventSignature({ secret, body, timestamp, signature: undefined, now }), false);
      assert.equal(verifyEventSignature({ secret, body, timestamp: 'soon', signature, now }), false);
    });

    it('when the timestamp is exactly 300 s old it verifies, and at 301 s it does not (a replayed delivery)', () => {
      const at = (age: number) => String(Math.floor(now.getTime() / 1000) - age);
      assert.equal(verifyEventSignature({ secret, body, timestamp: at(300), signature: signEvent(secret, at(300), body), now }), true);
      assert.equal(verifyEventSignature({ secret, body, timestamp: at(301), signature: signEvent(secret, at(301), body), now }), false);
    });
  });

  describe('retry schedule', () => {
    const first = new Date('2026-12-02T00:00:00Z');
    const retryAt = (attempts: number, nowMs: number) => {
      const next = afterFailure({ attempts, firstAttemptAt: first, now: new Date(nowMs) });
      return next.kind === 'retry' ? next.at.getTime() - nowMs : next.kind;
    };

    it('when attempts fail, then the waits double from 1 s: 1, 2, 4, 8 s', () => {
      const t = first.getTime();
      assert.deepEqual(
        [1, 2, 3, 4].map((n) => retryAt(n, t)),
        [1000, 2000, 4000, 8000],
      );
    });

    it('when the doubling passes an hour, then each wait is one hour', () => {
      const t = first.getTime() + 60_000;
      assert.equal(retryAt(12, t), 2048 * 1000);
      assert.equal(retryAt(13, t), MAX_RETRY_WAIT_MS);
      assert.equal(retryAt(60, t), MAX_RETRY_WAIT_MS);
    });

    it('when the next wait would pass the 24-hour mark, then the last try is made at the mark; a failure at the mark is final', () => {
      const mark = first.getTime() + RETRY_FOR_MS;
      assert.equal(retryAt(30, mark - 1000), 1000);
      assert.equal(retryAt(30, mark - 1), 1);
      assert.equal(retryAt(31, mark), 'give_up');
      assert.equal(retryAt(31, mark + 5000), 'give_up');
    });
  });

  describe('subscription URLs', () => {
    it('when the URL is https, then it is accepted', () => {
      assert.equal(subscriptionUrlProblem('https://hooks.example.com/inbox', false), null);
    });

    it('when the URL is http, then only loopback is accepted unless ALLOW_HTTP_WEBHOOKS is set', () => {
      for (const ok of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://[::1]:9/x', 'http://127.10.0.1/x']) {
        assert.equal(subscriptionUrlProblem(ok, false), null, ok);
      }
      assert.match(subscriptionUrlProblem('http://hooks.example.com/x', false) ?? '', /must be https/);
      assert.match(subscriptionUrlProblem('http://10.0.0.5/x', false) ?? '', /must be https/);
      assert.match(subscriptionUrlProblem('http://localhost.example.com/x', false) ?? '', /must be https/);
      assert.equal(subscriptionUrlProblem('http://hooks.example.com/x', true), null);
    });

    it('when the URL has another scheme, credentials, or is not a URL, then it is refused with the reason', () => {
      assert.match(subscriptionUrlProblem('ftp://example.com/x', true) ?? '', /https/);
      assert.match(subscriptionUrlProblem('file:///etc/passwd', true) ?? '', /https/);
      assert.match(subscriptionUrlProblem('https://user:pw@example.com/x', false) ?? '', /user name or password/);
      assert.match(subscriptionUrlProblem('/relative', false) ?? '', /absolute/);
      assert.match(subscriptionUrlProblem(`https://example.com/${'a'.repeat(2048)}`, false) ?? '', /2048/);
    });
  });
});
