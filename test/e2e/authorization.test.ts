/**
 * The authorization matrix of SPEC §6.1, tried on EVERY /api route the app registers
 * (read from Express's router stack, so a new route without a row here fails) with every
 * principal, through the running service (real PostgreSQL and Temporal).
 *
 * Expected outcomes are written here independently of src/http/access.ts, one letter
 * per principal: A allowed (2xx, or 404/409 when the resource says so), 1 → 401, 3 → 403.
 */
import assert from 'node:assert/strict';
import { eventually } from '../support/conversation-harness';
import { E2E_API_KEY, type ServiceUnderTest, startServiceUnderTest, textWebhook } from '../support/running-service';
import { findAccessRow } from '../../src/http/access';
import { createApp } from '../../src/http/app';

const NUM_A = '106540352242922';
const NUM_B = '106540352243333';
const NUM_BOT = '106540352244444';
const ADMIN_PASSWORD = 'admin-password-for-e2e';
const text = (body: string) => ({ type: 'text', text: { body } });

/** Column order of the expectation strings. */
const PRINCIPALS = ['anonymous', 'adminUser', 'adminKey', 'agentOwn', 'agentOther', 'botOwn', 'botOther'] as const;
type PrincipalName = (typeof PRINCIPALS)[number];

/**
 * The matrix as tested. agentOwn/agentOther: the agent user alice on her own number,
 * conversation, contact, agent record vs bob's; botOwn/botOther: a bot key limited to the
 * bot number vs one limited to another number, on a conversation in status bot.
 */
const EXPECTED: Record<string, string> = {
  //                                         anon adminU adminK agentOwn agentOther botOwn botOther
  'GET /api/session': '1AAAAAA',
  'GET /api/users': '1AA3333',
  'GET /api/api-keys': '1AA3333',
  'GET /api/numbers/:phoneNumberId/automation': '1AA3333',
  'GET /api/numbers/:phoneNumberId/queue': '1AAA333',
  'GET /api/agents': '1AA3333',
  'GET /api/agents/:agentId': '1AAA333',
  'GET /api/conversations': '1AAAAAA',
  'GET /api/conversations/:id': '1AAA3A3',
  'GET /api/contacts/:id': '1AAA333',
  'GET /api/csat': '1AAA333',
  'GET /api/events/stream': '1AAAAAA',
  'PUT /api/users/:login': '1AA3333',
  'POST /api/api-keys': '1AA3333',
  'DELETE /api/api-keys/:id': '1AA3333',
  'PUT /api/numbers/:phoneNumberId/automation': '1AA3333',
  'PUT /api/agents/:agentId': '1AA3333',
  'PUT /api/agents/:agentId/status': '1AAA333',
  'POST /api/conversations/:id/claim': '1AAA333',
  'POST /api/conversations/:id/assign': '1AA3333',
  'POST /api/conversations/:id/messages': '1AAA333',
  'POST /api/conversations/:id/bot/messages': '1AA33A3',
  'POST /api/conversations/:id/bot/handover': '1AA33A3',
  'POST /api/conversations/:id/close': '1AAA333',
  'POST /api/conversations/:id/bot/complete': '1AA33A3',
  'POST /api/session': 'AAAAAAA',
  'DELETE /api/session': '1AAAAAA',
  'PUT /api/webhooks/:webhookId': '1AA3333',
  'GET /api/webhooks': '1AA3333',
  'GET /api/webhooks/:webhookId': '1AA3333',
  'DELETE /api/webhooks/:webhookId': '1AA3333',
  'GET /api/webhooks/:webhookId/deliveries': '1AA3333',
};

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
  slash?: boolean;
}

/** `METHOD /path` of every route with a string path (the web app's catch-all is not under /api). */
function registeredRoutes(stack: Layer[], prefix = ''): string[] {
  const routes: string[] = [];
  for (const layer of stack) {
    if (layer.route && typeof layer.route.path === 'string') {
      for (const method of Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m])) {
        routes.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      }
    } else if (Array.isArray(layer.handle?.stack)) {
      const mount = layer.slash ? '' : layer.rawPath;
      if (typeof mount === 'string') routes.push(...registeredRoutes(layer.handle.stack, `${prefix}${mount}`));
    }
  }
  return routes;
}

describe('Authorization matrix (SPEC §6.1) on every route, with every principal', function () {
  this.timeout(240_000);
  let s: ServiceUnderTest;
  let wamid = 0;
  const cookies: Partial<Record<'admin' | 'alice', string>> = {};
  const keys: { botOwn?: string; botOther?: string } = {};
  const ids: Record<string, string> = {};

  async function customerSays(from: string, body: string, phoneNumberId: string): Promise<string> {
    const id = `wamid.AUTHZ-${++wamid}`;
    assert.equal((await s.postWebhook(textWebhook({ wamid: id, from, body, phoneNumberId }))).status, 200);
    const message = await eventually(
      () => s.db('messages').where({ wamid: id }).whereNotNull('conversation_id').first(),
      15_000,
      `conversation of ${id}`,
    );
    return message.conversation_id as string;
  }

  async function signIn(login: string, password: string): Promise<string> {
    const response = await fetch(`${s.baseUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.baseUrl },
      body: JSON.stringify({ login, password }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('inbox_session='));
    assert.ok(cookie, 'a session cookie');
    return cookie.split(';')[0];
  }

  before(async () => {
    s = await startServiceUnderTest({ ADMIN_PASSWORD });
    cookies.admin = await signIn('admin', ADMIN_PASSWORD);
    for (const [login, number] of [
      ['alice', NUM_A],
      ['bob', NUM_B],
    ]) {
      assert.equal((await s.api('PUT', `/users/${login}`, { role: 'agent', password: `${login}-password-123` })).status, 201);
      const agent = await s.api('PUT', `/agents/${login}`, { name: login, receptionLimit: 5, status: 'online', phoneNumberIds: [number] });
      assert.equal(agent.status, 200, JSON.stringify(agent.body));
    }
    cookies.alice = await signIn('alice', 'alice-password-123');
    assert.equal((await s.api('PUT', `/numbers/${NUM_BOT}/automation`, { routing: { mode: 'bot' } })).status, 200);
    const own = await s.api('POST', '/api-keys', { role: 'bot', name: 'own bot', phoneNumberIds: [NUM_BOT] });
    const other = await s.api('POST', '/api-keys', { role: 'bot', name: 'other bot', phoneNumberIds: [NUM_A] });
    assert.equal(own.status, 201);
    keys.botOwn = own.body.key;
    keys.botOther = other.body.key;
    const spare = await s.api('POST', '/api-keys', { role: 'admin', name: 'to revoke' });
    ids.spareKey = spare.body.id;

    ids.convA = await customerSays('15550101001', 'Hi from A', NUM_A);
    ids.convB = await customerSays('15550101002', 'Hi from B', NUM_B);
    ids.convBot = await customerSays('15550101003', 'Hi bot', NUM_BOT);
    await eventually(
      async () => {
        const rows = await s.db('conversations').whereIn('id', [ids.convA, ids.convB, ids.convBot]);
        const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
        return byId[ids.convA]?.agent_id === 'alice' && byId[ids.convB]?.agent_id === 'bob' && byId[ids.convBot]?.status === 'bot' ? true : null;
      },
      20_000,
      'routing',
    );
    ids.contactA = (await s.db('conversations').where({ id: ids.convA }).first()).contact_id;
    ids.contactB = (await s.db('conversations').where({ id: ids.convB }).first()).contact_id;
  });
  after(async () => s?.stop());

  /** Headers of each principal; cookie principals send Origin like a browser does. */
  function headersOf(principal: PrincipalName): Record<string, string> {
    switch (principal) {
      case 'anonymous':
        return {};
      case 'adminUser':
        return { cookie: cookies.admin!, origin: s.baseUrl };
      case 'agentOwn':
      case 'agentOther':
        return { cookie: cookies.alice!, origin: s.baseUrl };
      case 'adminKey':
        return { authorization: `Bearer ${E2E_API_KEY}` };
      case 'botOwn':
        return { authorization: `Bearer ${keys.botOwn}` };
      case 'botOther':
        return { authorization: `Bearer ${keys.botOther}` };
    }
  }

  /** The request each principal makes on a route: its path parameters, query and body. */
  function requestFor(route: string, principal: PrincipalName): { path: string; body?: unknown } {
    const other = principal === 'agentOther';
    const bot = principal === 'botOwn' || principal === 'botOther';
    const agentId = other ? 'bob' : 'alice';
    const conversation = route.includes('/bot/') || bot ? ids.convBot : other ? ids.convB : ids.convA;
    const values: Record<string, string> = {
      phoneNumberId: other ? NUM_B : NUM_A,
      agentId,
      id: route.includes('/contacts/') ? (other ? ids.contactB : ids.contactA) : route.includes('/api-keys/') ? ids.spareKey : conversation,
      webhookId: 'matrix-hook',
      login: 'carol',
    };
    let path = route.split(' ')[1].replace(/:(\w+)/g, (_m, name: string) => values[name]);
    if (route === 'GET /api/csat' && other) path += '?agentId=bob';
    const bodies: Record<string, unknown> = {
      'PUT /api/users/:login': { role: 'agent', password: 'carol-password-123' },
      'POST /api/api-keys': { role: 'bot', name: 'made in the matrix test' },
      'PUT /api/numbers/:phoneNumberId/automation': {},
      'PUT /api/agents/:agentId': { name: agentId, receptionLimit: 5, status: 'online', phoneNumberIds: [values.phoneNumberId] },
      'PUT /api/agents/:agentId/status': { status: 'online' },
      'POST /api/conversations/:id/claim': principal.startsWith('agent') ? {} : { agentId: 'alice' },
      'POST /api/conversations/:id/assign': { agentId: 'alice' },
      'POST /api/conversations/:id/messages': {
        ...(principal.startsWith('agent') ? {} : { agentId: 'alice' }),
        message: text('Hello from the matrix'),
      },
      'POST /api/conversations/:id/close': {},
      'POST /api/conversations/:id/bot/messages': { message: text('Bot here') },
      'POST /api/conversations/:id/bot/handover': {},
      'POST /api/conversations/:id/bot/complete': {},
      'POST /api/session': { login: 'alice', password: 'alice-password-123' },
      // Disabled: nothing is delivered to the unreachable URL while the matrix runs.
      'PUT /api/webhooks/:webhookId': { url: 'http://127.0.0.1:9/matrix', secret: 'matrix-secret-0123456', events: ['agent.status'], enabled: false },
    };
    return { path, body: bodies[route] };
  }

  async function attempt(route: string, principal: PrincipalName): Promise<number> {
    const method = route.split(' ')[0];
    const { path, body } = requestFor(route, principal);
    const controller = new AbortController();
    const headers = headersOf(principal);
    // Signing out ends the session: cookie principals sign out a session of their own.
    if (route === 'DELETE /api/session' && headers.cookie) {
      headers.cookie = principal === 'adminUser' ? await signIn('admin', ADMIN_PASSWORD) : await signIn('alice', 'alice-password-123');
    }
    const response = await fetch(`${s.baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
    const status = response.status;
    if (route === 'GET /api/events/stream') controller.abort();
    else await response.text();
    return status;
  }

  it('when the app registers a route under /api, then the matrix has a row for it and this test an expectation', () => {
    // The running service's app is not exposed: build the same one the service builds.
    const routes = registeredRoutes(apiStack()).filter((r) => r.split(' ')[1].startsWith('/api/') && r !== 'GET /api/openapi.json');
    assert.ok(routes.length >= 25, `only ${routes.length} routes found`);
    assert.deepEqual(
      {
        untested: routes.filter((r) => !(r in EXPECTED)).sort(),
        notServed: Object.keys(EXPECTED)
          .filter((r) => !routes.includes(r))
          .sort(),
      },
      { untested: [], notServed: [] },
    );
    for (const route of routes) {
      const [method, path] = route.split(' ');
      assert.ok(findAccessRow(method, path.slice('/api'.length)), `${route} has no row in ACCESS_MATRIX`);
    }
  });

  it('when the bot key lists conversations, then it sees only bot conversations of its numbers; an agent only their numbers', async () => {
    type Listed = { conversations: { id: string; phoneNumberId: string; status: string }[] };
    const asBot = (await fetch(`${s.baseUrl}/api/conversations`, { headers: { authorization: `Bearer ${keys.botOwn}` } }).then((r) =>
      r.json(),
    )) as Listed;
    assert.ok(asBot.conversations.length >= 1);
    assert.ok(asBot.conversations.every((c) => c.phoneNumberId === NUM_BOT && c.status === 'bot'));
    const asAlice = (await fetch(`${s.baseUrl}/api/conversations`, { headers: { cookie: cookies.alice! } }).then((r) => r.json())) as Listed;
    assert.ok(asAlice.conversations.some((c) => c.id === ids.convA));
    assert.ok(asAlice.conversations.every((c) => c.phoneNumberId === NUM_A));
  });

  it('when an agent names another agent in a body, then 403; omitted, they act as themself', async () => {
    const headers = { cookie: cookies.alice!, origin: s.baseUrl, 'content-type': 'application/json' };
    const fresh = await customerSays('15550101009', 'Another one', NUM_A);
    const asBob = await fetch(`${s.baseUrl}/api/conversations/${fresh}/close`, { method: 'POST', headers, body: JSON.stringify({ agentId: 'bob' }) });
    assert.equal(asBob.status, 403);
    await eventually(async () => ((await s.db('conversations').where({ id: fresh }).first()).agent_id === 'alice' ? true : null), 15_000, 'assigned');
    const asSelf = await fetch(`${s.baseUrl}/api/conversations/${fresh}/close`, { method: 'POST', headers, body: '{}' });
    assert.equal(asSelf.status, 200, await asSelf.text());
    const detail = await s.api('GET', `/conversations/${fresh}`);
    assert.equal(detail.body.closeReason, 'agent');
    const action = detail.body.timeline.find((e: { kind: string }) => e.kind === 'action');
    assert.deepEqual(action.actor, { type: 'user', login: 'alice', role: 'agent' });
    assert.equal(action.agentId, 'alice');
  });

  it('when a cookie-authenticated change comes from another origin or names none, then 403; a bearer key needs no origin', async () => {
    const variants: Record<string, string>[] = [{ origin: 'https://evil.example' }, {}, { 'sec-fetch-site': 'cross-site' }];
    for (const headers of variants) {
      const response = await fetch(`${s.baseUrl}/api/agents/alice/status`, {
        method: 'PUT',
        headers: { cookie: cookies.alice!, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ status: 'online' }),
      });
      assert.equal(response.status, 403, JSON.stringify(headers));
    }
    const sameSite = await fetch(`${s.baseUrl}/api/agents/alice/status`, {
      method: 'PUT',
      headers: { cookie: cookies.alice!, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ status: 'online' }),
    });
    assert.equal(sameSite.status, 200);
    assert.equal((await s.api('PUT', '/agents/alice/status', { status: 'online' })).status, 200);
  });

  for (const [route, expected] of Object.entries(EXPECTED)) {
    it(`when each principal calls ${route}, then the answer is ${expected} (anon adminUser adminKey agentOwn agentOther botOwn botOther)`, async () => {
      // Refusals first, so an allowed action never changes what a later refusal meets.
      const order = [...PRINCIPALS].sort((a, b) => Number(expected[PRINCIPALS.indexOf(a)] === 'A') - Number(expected[PRINCIPALS.indexOf(b)] === 'A'));
      const got: Record<string, number> = {};
      for (const principal of order) got[principal] = await attempt(route, principal);
      const outcome = PRINCIPALS.map((p) => {
        const status = got[p];
        if (status === 401) return '1';
        if (status === 403) return '3';
        if ((status >= 200 && status < 300) || status === 404 || status === 409) return 'A';
        return `(${status})`;
      }).join('');
      assert.equal(outcome, expected, `${route}: ${JSON.stringify(got)}`);
    });
  }
});

/** The /api routes of an app built like the service's (deps are never used to list routes). */
function apiStack(): Layer[] {
  const never = new Proxy<object>(function stub() {}, {
    get: () => {
      throw new Error('unused');
    },
  }) as never;
  const app = createApp({
    store: never,
    temporal: never,
    intake: never,
    log: never,
    graph: null,
    sandbox: true,
    taskQueue: 'unused',
    apiKeys: [],
    appSecret: 'unused',
    verifyToken: 'unused',
  });
  return (app as unknown as { router: { stack: Layer[] } }).router.stack;
}
