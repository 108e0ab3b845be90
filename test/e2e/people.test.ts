/**
 * People and what they see (SPEC §6, §6.1, §8) through the running service: the first
 * admin, sessions and their throttling, users and API keys (API and `npm run users`),
 * contacts, search and pagination, timers and the timeline, and live updates delivered
 * by two API replicas on the same database.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { eventually } from '../support/conversation-harness';
import { type ApiReplica, type ServiceUnderTest, startApiReplica, startServiceUnderTest, textWebhook } from '../support/running-service';
import { testLog } from '../support/environment';
import { createEventHub } from '../../src/http/event-stream';
import { createStore } from '../../src/store';
import { connectClient } from '../../src/temporal/client';

const NUM_A = '106540352245555';
const NUM_B = '106540352246666';
const run = promisify(execFile);

interface StreamEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** An SSE client: collects events as they come. */
async function openStream(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: StreamEvent[] = [];
  const comments: string[] = [];
  let buffer = '';
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        comments.push(...block.split('\n').filter((l) => l.startsWith(':')));
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => l && !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
        );
        if (fields.data) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
      }
    }
  })().catch(() => undefined);
  return {
    events,
    comments,
    waitFor: (predicate: (e: StreamEvent) => boolean, what: string, timeoutMs = 10_000) =>
      eventually(async () => events.find(predicate) ?? null, timeoutMs, what),
    async close() {
      controller.abort();
      await pump;
    },
  };
}

describe('People, contacts, timelines and live updates against the running service', function () {
  this.timeout(240_000);
  let s: ServiceUnderTest;
  let wamid = 0;
  let adminCookie = '';

  async function customerSays(from: string, body: string, phoneNumberId: string, name = 'E2E Customer'): Promise<string> {
    const id = `wamid.PEOPLE-${++wamid}`;
    assert.equal((await s.postWebhook(textWebhook({ wamid: id, from, body, phoneNumberId, name }))).status, 200);
    const message = await eventually(
      () => s.db('messages').where({ wamid: id }).whereNotNull('conversation_id').first(),
      15_000,
      `conversation of ${id}`,
    );
    return message.conversation_id as string;
  }

  async function signIn(login: string, password: string): Promise<Response> {
    return fetch(`${s.baseUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.baseUrl },
      body: JSON.stringify({ login, password }),
    });
  }

  function sessionCookie(response: Response): string {
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('inbox_session='));
    assert.ok(cookie, 'a session cookie');
    return cookie;
  }

  before(async () => {
    s = await startServiceUnderTest();
  });
  after(async () => s?.stop());

  describe('first admin and sessions', () => {
    it('when no user exists at the first start, then admin is created with a generated password kept in DATA_DIR', async () => {
      assert.equal(s.service.firstAdminCreated, true);
      const secrets = JSON.parse(readFileSync(path.join(s.env.DATA_DIR, 'secrets.json'), 'utf8'));
      assert.equal(typeof secrets.adminPassword, 'string');
      assert.ok(secrets.adminPassword.length >= 12);
      const response = await signIn('admin', secrets.adminPassword);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { kind: string; user: { login: string; role: string } };
      assert.deepEqual({ kind: body.kind, login: body.user.login, role: body.user.role }, { kind: 'user', login: 'admin', role: 'admin' });
      assert.ok(!JSON.stringify(body).includes(secrets.adminPassword), 'the password is never returned');
      const cookie = sessionCookie(response);
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Lax/i);
      assert.doesNotMatch(cookie, /Secure/i, 'not Secure without an https PUBLIC_URL');
      adminCookie = cookie.split(';')[0];

      const me = await fetch(`${s.baseUrl}/api/session`, { headers: { cookie: adminCookie } });
      assert.equal(((await me.json()) as { user: { login: string } }).user.login, 'admin');
      const second = await s.db('users').count<{ count: string }[]>('* as count');
      assert.equal(Number(second[0].count), 1);
    });

    it('when the login or the password is wrong, then 401 with the same answer; after 5 failures, 429 with Retry-After even for the right password', async () => {
      assert.equal((await s.api('PUT', '/users/erin', { role: 'agent', password: 'erin-password-123' })).status, 201);
      const unknown = await signIn('nobody', 'whatever-password');
      const wrong = await signIn('erin', 'wrong-password-123');
      assert.equal(unknown.status, 401);
      assert.equal(wrong.status, 401);
      assert.deepEqual(await unknown.json(), await wrong.json());
      for (let i = 0; i < 4; i++) assert.equal((await signIn('erin', 'wrong-password-123')).status, 401);
      const throttled = await signIn('erin', 'erin-password-123');
      assert.equal(throttled.status, 429);
      const retryAfter = Number(throttled.headers.get('retry-after'));
      assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter}`);
      // Counted in PostgreSQL (shared by replicas), per login: others still sign in.
      assert.equal(Number((await s.db('login_failures').where({ login: 'erin' }).count<{ count: string }[]>('* as count'))[0].count), 5);
      await s
        .db('login_failures')
        .where({ login: 'erin' })
        .update({ failed_at: s.db.raw(`now() - interval '16 minutes'`) });
      assert.equal((await signIn('erin', 'erin-password-123')).status, 200, 'the window has passed');
    });

    it('when a user signs out, then the cookie no longer works', async () => {
      const response = await signIn('erin', 'erin-password-123');
      const cookie = sessionCookie(response).split(';')[0];
      const out = await fetch(`${s.baseUrl}/api/session`, { method: 'DELETE', headers: { cookie, origin: s.baseUrl } });
      assert.equal(out.status, 204);
      assert.equal((await fetch(`${s.baseUrl}/api/session`, { headers: { cookie } })).status, 401);
    });

    it('when a password is shorter than 12 characters, then 400 naming the field; users are listed without passwords', async () => {
      const short = await s.api('PUT', '/users/frank', { role: 'agent', password: 'short' });
      assert.equal(short.status, 400);
      assert.equal(short.body.error.details[0].field, 'password');
      const list = await s.api('GET', '/users');
      assert.deepEqual(list.body.users.map((u: { login: string }) => u.login).sort(), ['admin', 'erin']);
      assert.ok(!JSON.stringify(list.body).match(/password|scrypt/i));
      const hash = (await s.db('users').where({ login: 'erin' }).first()).password_hash as string;
      assert.match(hash, /^scrypt\$32768\$8\$1\$/);
    });

    it('when npm run users creates a user and resets a password, then they sign in with it (the same use case as the API)', async () => {
      const env = { ...process.env, DATABASE_URL: s.env.DATABASE_URL, DATA_DIR: s.env.DATA_DIR, LOG_LEVEL: 'silent' };
      const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/users-cli.ts', ...args], { env });
      const created = await cli('create', 'grace', '--role', 'agent', '--password', 'grace-password-123');
      assert.match(created.stdout, /created agent grace/);
      assert.equal((await signIn('grace', 'grace-password-123')).status, 200);
      assert.ok(await s.db('agents').where({ id: 'grace' }).first(), 'an agent user has its agent record');
      const reset = await cli('reset-password', 'grace');
      const password = /reset: (\S+);/.exec(reset.stdout)?.[1];
      assert.ok(password, reset.stdout);
      assert.equal((await signIn('grace', 'grace-password-123')).status, 401);
      assert.equal((await signIn('grace', password)).status, 200);
    });

    it('when an API key is created, then it is shown once, stored hashed, works, and stops working once deleted', async () => {
      const created = await s.api('POST', '/api-keys', { role: 'admin', name: 'ops' });
      assert.equal(created.status, 201);
      const key = created.body.key as string;
      const list = await s.api('GET', '/api-keys');
      assert.ok(!JSON.stringify(list.body).includes(key));
      assert.ok(!JSON.stringify(await s.db('api_keys').select()).includes(key), 'stored hashed');
      assert.equal((await s.api('GET', '/agents', undefined, key)).status, 200);
      assert.equal((await s.api('DELETE', `/api-keys/${created.body.id}`)).status, 204);
      assert.equal((await s.api('GET', '/agents', undefined, key)).status, 401);
    });
  });

  describe('contacts, search and pagination', () => {
    it('when conversations are listed, then each carries its contact, q finds by name or phone, and the cursor walks every page', async () => {
      const zelda = await customerSays('15550199001', 'Hello', NUM_A, 'Zelda Example');
      await customerSays('15550199002', 'Hello', NUM_A, 'Yann Other');
      await customerSays('15550199003', 'Hello', NUM_A, 'Xavier Third');
      const byName = await s.api('GET', '/conversations?q=zelda');
      assert.deepEqual(
        byName.body.conversations.map((c: { id: string }) => c.id),
        [zelda],
      );
      assert.deepEqual(byName.body.conversations[0].contact, {
        id: byName.body.conversations[0].contactId,
        name: 'Zelda Example',
        waId: '15550199001',
        userId: null,
      });
      const byPhone = await s.api('GET', '/conversations?q=0199001');
      assert.deepEqual(
        byPhone.body.conversations.map((c: { id: string }) => c.id),
        [zelda],
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { conversations: { id: string }[]; nextCursor: string | null } } = await s.api(
          'GET',
          `/conversations?phoneNumberId=${NUM_A}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(page.status, 200);
        assert.ok(page.body.conversations.length <= 1);
        seen.push(...page.body.conversations.map((c) => c.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      const all = await s.api('GET', `/conversations?phoneNumberId=${NUM_A}`);
      assert.deepEqual(
        seen,
        all.body.conversations.map((c: { id: string }) => c.id),
      );
      assert.equal(seen.length, 3);
      assert.equal((await s.api('GET', '/conversations?limit=201')).status, 400);
      assert.equal((await s.api('GET', '/conversations?cursor=garbage')).status, 400);
      // The search text is literal: LIKE's wildcards in it match only themselves.
      const percent = await customerSays('15550199004', 'Hello', NUM_A, '100% Real');
      for (const [q, expected] of [
        ['%25', [percent]],
        ['_', []],
        ['zel_a', []],
      ] as const) {
        const found = await s.api('GET', `/conversations?q=${q}`);
        assert.deepEqual(
          found.body.conversations.map((c: { id: string }) => c.id),
          expected,
          `q=${q}`,
        );
      }

      const contact = await s.api('GET', `/contacts/${byName.body.conversations[0].contactId}`);
      assert.equal(contact.status, 200);
      assert.equal(contact.body.name, 'Zelda Example');
      assert.deepEqual(
        contact.body.conversations.map((c: { id: string }) => c.id),
        [zelda],
      );
    });
  });

  describe('timers and timeline', () => {
    it('when nobody is online, then the timeline says why, and the automated message; when routed to an agent, the reason and the armed reminder', async () => {
      const alone = await customerSays('15550199101', 'Anyone?', NUM_B);
      const unassigned = await eventually(
        async () => {
          const d = await s.api('GET', `/conversations/${alone}`);
          return d.body.timeline.some((e: { kind: string }) => e.kind === 'automated_message_sent') ? d.body : null;
        },
        15_000,
        'unassigned reply in the timeline',
      );
      const kinds: string[] = unassigned.timeline.map((e: { kind: string }) => e.kind);
      assert.deepEqual(kinds.slice(0, 2), ['opened', 'message_received']);
      assert.ok(kinds.indexOf('routed') > 1, kinds.join());
      const routed = unassigned.timeline.find((e: { kind: string }) => e.kind === 'routed');
      assert.equal(routed.reason, 'no_agent_online');
      assert.deepEqual(routed.actor, { type: 'automation' });
      assert.equal(unassigned.timeline.find((e: { kind: string }) => e.kind === 'automated_message_sent').automation, 'unassigned_reply');

      await s.api('PUT', `/numbers/${NUM_B}/automation`, { reminder: { enabled: true, waitMinutes: 30 } });
      await s.api('PUT', '/agents/helen', { name: 'Helen', receptionLimit: 5, status: 'online', phoneNumberIds: [NUM_B] });
      const served = await customerSays('15550199102', 'Help please', NUM_B);
      const detail = await eventually(
        async () => {
          const d = await s.api('GET', `/conversations/${served}`);
          return d.body.status === 'assigned' && d.body.timers?.length ? d.body : null;
        },
        15_000,
        'assigned with a timer',
      );
      const route = detail.timeline.find((e: { kind: string; status?: string }) => e.kind === 'routed' && e.status === 'assigned');
      assert.equal(route.agentId, 'helen');
      assert.equal(route.reason, 'least_loaded');
      const reminder = detail.timers.find((t: { rule: string }) => t.rule === 'reminder');
      assert.ok(reminder, JSON.stringify(detail.timers));
      const dueIn = Date.parse(reminder.dueAt) - Date.now();
      assert.ok(dueIn > 25 * 60_000 && dueIn <= 30 * 60_000, `reminder due in ${dueIn} ms`);

      assert.equal((await s.api('POST', `/conversations/${served}/close`, {})).status, 200);
      const closed = await s.api('GET', `/conversations/${served}`);
      assert.deepEqual(closed.body.timers, []);
      const closedEntry = closed.body.timeline.find((e: { kind: string }) => e.kind === 'closed');
      assert.equal(closedEntry.closeReason, 'admin');
      const action = closed.body.timeline.find((e: { kind: string; action?: string }) => e.kind === 'action' && e.action === 'close');
      assert.deepEqual(action.actor, { type: 'key', id: null, name: 'API_KEYS', role: 'admin' });
      const times = closed.body.timeline.map((e: { at: string }) => Date.parse(e.at));
      assert.deepEqual(
        times,
        [...times].sort((a: number, b: number) => a - b),
        'in order',
      );
    });
  });

  describe('live updates across two API replicas', () => {
    let temporal: Client;
    const replicas: ApiReplica[] = [];

    before(async () => {
      temporal = await connectClient({ address: s.service.temporalAddress, namespace: s.env.TEMPORAL_NAMESPACE });
      for (let i = 0; i < 2; i++) replicas.push(await startApiReplica(s, temporal, { heartbeatMs: 300 }));
    });
    after(async () => {
      for (const r of replicas) await r.stop();
      await temporal?.connection.close();
    });

    it('when a customer writes, then both replicas deliver the event; a client resumes with Last-Event-ID; an agent sees only their numbers; heartbeats flow', async () => {
      assert.equal((await s.api('PUT', '/users/ivan', { role: 'agent', password: 'ivan-password-123' })).status, 201);
      await s.api('PUT', '/agents/ivan', { name: 'Ivan', receptionLimit: 1, status: 'offline', phoneNumberIds: [NUM_A] });
      const ivanCookie = sessionCookie(await signIn('ivan', 'ivan-password-123')).split(';')[0];

      const key = { authorization: 'Bearer replica-key' };
      const one = await openStream(`${replicas[0].url}/api/events/stream`, key);
      const two = await openStream(`${replicas[1].url}/api/events/stream`, key);
      const ivan = await openStream(`${replicas[1].url}/api/events/stream`, { cookie: ivanCookie });
      try {
        const onB = await customerSays('15550199201', 'Live on B', NUM_B);
        const onA = await customerSays('15550199202', 'Live on A', NUM_A);
        const received = (c: string) => (e: StreamEvent) => e.event === 'message.received' && e.data.conversationId === c;
        const first = await one.waitFor(received(onB), 'replica 1 delivers');
        const second = await two.waitFor(received(onB), 'replica 2 delivers');
        assert.equal(first.id, second.id);
        await one.waitFor((e) => e.event === 'conversation.created' && e.data.conversationId === onA, 'created event');
        await ivan.waitFor(received(onA), 'the agent sees their number');
        await two.waitFor(received(onA), 'replica 2 has seen A too');
        assert.ok(
          ivan.events.every((e) => e.data.phoneNumberId === NUM_A),
          `ivan saw ${JSON.stringify(ivan.events.map((e) => e.data.phoneNumberId))}`,
        );
        assert.ok(!ivan.events.some((e) => e.data.conversationId === onB));
        await eventually(async () => (one.comments.some((c) => c.startsWith(': heartbeat')) ? true : null), 5_000, 'a heartbeat comment');

        // Resume: everything after the first event, replayed from the table, then live.
        const resumed = await openStream(`${replicas[1].url}/api/events/stream`, { ...key, 'last-event-id': first.id });
        try {
          const missed = one.events.filter((e) => BigInt(e.id) > BigInt(first.id)).map((e) => e.id);
          await eventually(async () => (missed.every((id) => resumed.events.some((e) => e.id === id)) ? true : null), 10_000, 'replay');
          assert.ok(
            resumed.events.every((e) => BigInt(e.id) > BigInt(first.id)),
            'nothing before Last-Event-ID',
          );
          const ids = resumed.events.map((e) => BigInt(e.id));
          assert.deepEqual(
            ids,
            [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
            'in id order, no duplicates',
          );
          assert.equal(new Set(ids).size, ids.length);
        } finally {
          await resumed.close();
        }
      } finally {
        await Promise.all([one.close(), two.close(), ivan.close()]);
      }
    });

    it('when PUBLIC_URL is https, then the session cookie is Secure and a change from that origin passes', async () => {
      const replica = await startApiReplica(s, temporal, { publicUrl: 'https://inbox.example.com' });
      try {
        const base = `${replica.url}/api`;
        const signedIn = await fetch(`${base}/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: 'https://inbox.example.com' },
          body: JSON.stringify({ login: 'erin', password: 'erin-password-123' }),
        });
        assert.equal(signedIn.status, 200);
        const cookie = sessionCookie(signedIn);
        assert.match(cookie, /;\s*Secure/i);
        const change = await fetch(`${base}/agents/erin/status`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', origin: 'https://inbox.example.com', cookie: cookie.split(';')[0] },
          body: JSON.stringify({ status: 'offline' }),
        });
        assert.equal(change.status, 200, await change.text());
      } finally {
        await replica.stop();
      }
    });

    it('when a client stops reading, then it is disconnected and the others go on', async () => {
      const store = createStore(s.db);
      const tight = createEventHub({ store, log: testLog, maxBufferedBytes: 256 * 1024, hardLimitBytes: 256 * 1024 * 1024, behindGraceMs: 2000 });
      const replica = await startApiReplica(s, temporal, { events: tight });
      const { port } = replica;
      // A client that never reads: once the socket buffers are full, its backlog grows.
      const socket = connect(port, '127.0.0.1');
      socket.pause();
      socket.write(`GET /api/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer replica-key\r\n\r\n`);
      try {
        await eventually(async () => (tight.clientCount() === 1 ? true : null), 5_000, 'slow client connected');
        const reader = await openStream(`http://127.0.0.1:${port}/api/events/stream`, { authorization: 'Bearer replica-key' });
        try {
          // 8,000 changes of 2 kB (16 MB), through the same function the triggers call.
          await s.db.raw(
            `WITH made AS (SELECT inbox_change_event('queue.changed', ?, NULL, NULL, jsonb_build_object('padding', repeat('x', 2000))) FROM generate_series(1, 8000))
             SELECT count(*) FROM made`,
            [NUM_B],
          );
          const last = String((await s.db('change_events').max<{ max: string }>('id as max').first())!.max);
          await eventually(async () => (tight.clientCount() === 1 ? true : null), 30_000, 'the slow client is dropped').catch((e) => {
            throw new Error(
              `${e.message}: ${tight.clientCount()} clients, reader has ${reader.events.length} events, last ${reader.events.at(-1)?.id} of ${last}`,
            );
          });
          await reader.waitFor((e) => e.id === last, 'the reading client gets every event', 60_000);
        } finally {
          await reader.close();
        }
      } finally {
        socket.destroy();
        await replica.stop();
      }
    });
  });
});
