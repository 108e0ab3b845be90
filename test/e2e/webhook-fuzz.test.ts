/**
 * Seeded fuzz against the running service (real Temporal dev server, PostgreSQL, Express,
 * fake Graph API). Thousands of webhook bodies — random JSON, mutated fixtures, invalid
 * bytes — go in signed, unsigned and wrongly signed, then a few hundred random bodies go to
 * the JSON API. The service must never answer 5xx, must stay up, must reject every bad
 * signature without a trace, and must end up storing exactly the events that the parser
 * finds in the bodies it accepted.
 *
 * Deterministic: the same SEED always produces the same webhook cases in the same order;
 * only the interleaving of the requests in flight varies, and with it which conversation
 * ids the API cases pick from the database.
 */
import assert from 'node:assert/strict';
import { signWebhookBody } from '../../src/whatsapp/signature';
import type { WebhookEvent } from '../../src/whatsapp/webhook-events';
import { parseWebhookPayload } from '../../src/whatsapp/webhook-parser';
import { loadWebhookFixture, webhookFixtureNames } from '../fixtures/webhooks';
import { E2E_SECRET, type ServiceUnderTest, startServiceUnderTest } from '../support/running-service';

const SEED = 0x5eed2026;
/** Rejected (unsigned / wrongly signed) bodies sent first, on an empty database. */
const REJECTED_ONLY_CASES = 300;
/** Mixed signed and rejected bodies sent after that. */
const MIXED_CASES = 2700;
const API_CASES = 800;
const IN_FLIGHT = 8;
/** The receiver's documented limit (Meta: payloads up to 3 MB). */
const MAX_WEBHOOK_BYTES = 3 * 1024 * 1024;
const PHONE_NUMBER_ID = '106540352242922';

// ---------------------------------------------------------------------------------------
// Deterministic randomness

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [w, value] of choices) {
      roll -= w;
      if (roll < 0) return value;
    }
    return choices[choices.length - 1][1];
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

// ---------------------------------------------------------------------------------------
// Values

/** Strings that have broken parsers, databases and workflows before. */
const TOKENS: readonly string[] = [
  '',
  ' ',
  'whatsapp_business_account',
  'messages',
  'statuses',
  'errors',
  'contacts',
  'metadata',
  'value',
  'field',
  'entry',
  'changes',
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'unsupported',
  'request_welcome',
  'edit',
  'revoke',
  'button_reply',
  'list_reply',
  'nfm_reply',
  'sent',
  'delivered',
  'read',
  'played',
  'failed',
  'account_update',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'csat:00000000-0000-0000-0000-000000000000:5',
  'csat:------------------------------------:3',
  `csat:${'f'.repeat(36)}:1`,
  'csat:zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz:2',
  'null',
  'true',
  'false',
  '1750000000',
  '-1',
  '0',
  '1e400',
  '0x10',
  'NaN',
  'Infinity',
  '9999999999999999999999',
  '😀',
  '👍🏽',
  '👨‍👩‍👧‍👦',
  '🇧🇷',
  'ÅÄÖ',
  'مرحبا',
  'שלום',
  '中文字符',
  '\u202Eevil',
  '\u200B',
  '\uFEFF',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\n',
  '\r\n',
  '\t',
  '\u001b[31m',
  "'; DROP TABLE messages; --",
  '%s%n%x',
  '${7*7}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'wamid.',
  'BR.1480625993027561234',
  '5511999990000',
  PHONE_NUMBER_ID,
  'US.ENT.123',
];
const EMOJI: readonly string[] = ['😀', '👍', '❤️', '🙏🏾', '👩‍💻', '🏳️‍🌈', '🇯🇵', '🤷‍♀️', '🧪', '🦄'];

function randomString(rng: Rng, maxLength = 24): string {
  const parts: string[] = [];
  const length = rng.int(maxLength + 1);
  while (parts.join('').length < length) {
    parts.push(
      rng.weighted<() => string>([
        [5, () => String.fromCharCode(rng.range(32, 126))],
        [2, () => rng.pick(TOKENS)],
        [2, () => rng.pick(EMOJI)],
        // Any UTF-16 code unit: controls, NUL, lone surrogates, noncharacters.
        [1, () => String.fromCharCode(rng.int(0x10000))],
        [1, () => String.fromCodePoint(rng.range(0x10000, 0x10ffff))],
        [1, () => String.fromCharCode(rng.int(32))],
      ])(),
    );
    if (parts.length > maxLength) break;
  }
  return parts.join('');
}

function hugeString(rng: Rng, maxLength = 800_000): string {
  const length = rng.range(10_000, maxLength);
  return rng.weighted<() => string>([
    [2, () => rng.pick(['a', 'Z', '9', ' ']).repeat(length)],
    [
      2,
      () =>
        rng
          .pick(EMOJI)
          .repeat(Math.ceil(length / 4))
          .slice(0, length),
    ],
    [
      1,
      () =>
        rng
          .bytes(Math.ceil(length / 2))
          .toString('hex')
          .slice(0, length),
    ],
    [
      1,
      () =>
        Array.from({ length: 64 }, () => randomString(rng, 16))
          .join('')
          .repeat(Math.ceil(length / 512))
          .slice(0, length),
    ],
  ])();
}

function randomNumber(rng: Rng): number {
  return rng.weighted<() => number>([
    [3, () => rng.int(1000)],
    [2, () => rng.int(2_000_000_000)],
    [1, () => (rng.next() - 0.5) * 1e6],
    [1, () => rng.pick([0, -0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 5e-324, 1750000000, 131047, 131000])],
  ])();
}

function randomValue(rng: Rng, depth = 0): unknown {
  const leaf: [number, () => unknown][] = [
    [1, () => null],
    [1, () => rng.chance(0.5)],
    [2, () => randomNumber(rng)],
    [4, () => randomString(rng)],
  ];
  const nested: [number, () => unknown][] =
    depth < 4
      ? [
          [2, () => Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1))],
          [
            3,
            () =>
              Object.fromEntries(
                Array.from({ length: rng.int(5) }, () => [rng.chance(0.5) ? rng.pick(TOKENS) : randomString(rng, 10), randomValue(rng, depth + 1)]),
              ),
          ],
        ]
      : [];
  return rng.weighted([...leaf, ...nested])();
}

// ---------------------------------------------------------------------------------------
// Bodies

type Json = Record<string, unknown>;

/** Deeply nested JSON is spliced in as text: JSON.stringify itself overflows the stack on it. */
class BodyBuilder {
  private deep = new Map<string, string>();
  private next = 0;
  deepPlaceholder(rng: Rng): string {
    const depth = rng.weighted([
      [3, rng.range(50, 500)],
      [2, rng.range(1_000, 10_000)],
      [1, rng.range(20_000, 100_000)],
    ] as const);
    const inner = JSON.stringify(randomValue(rng, 3));
    const text = rng.chance(0.5) ? '['.repeat(depth) + inner + ']'.repeat(depth) : '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
    const key = `@@deep-${this.next++}@@`;
    this.deep.set(JSON.stringify(key), text);
    return key;
  }
  serialize(value: unknown): string {
    let text = JSON.stringify(value) ?? 'null';
    for (const [placeholder, replacement] of this.deep) text = text.split(placeholder).join(replacement);
    return text;
  }
}

interface NodeRef {
  parent: Json | unknown[];
  key: string | number;
}

function allNodes(root: unknown): NodeRef[] {
  const refs: NodeRef[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        refs.push({ parent: node, key: i });
        walk(child);
      });
    } else if (node && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        refs.push({ parent: node as Json, key });
        walk((node as Json)[key]);
      }
    }
  };
  walk(root);
  return refs;
}

const MUTATIONS = [
  'delete',
  'swap_type',
  'huge_string',
  'deep_nesting',
  'unicode',
  'number_as_string',
  'string_as_number',
  'array_for_object',
  'object_for_array',
  'null',
  'duplicate_element',
  'unknown_key',
  'token',
  'empty',
] as const;
type Mutation = (typeof MUTATIONS)[number];

function mutate(rng: Rng, root: Json, builder: BodyBuilder, counts: Map<string, number>): void {
  const refs = allNodes(root);
  if (refs.length === 0) return;
  const { parent, key } = rng.pick(refs);
  const get = () => (parent as Record<string | number, unknown>)[key];
  const set = (value: unknown) => {
    (parent as Record<string | number, unknown>)[key] = value;
  };
  const current = get();
  const mutation: Mutation = rng.weighted(MUTATIONS.map((m) => [m === 'huge_string' || m === 'deep_nesting' ? 1 : 3, m] as const));
  counts.set(mutation, (counts.get(mutation) ?? 0) + 1);
  switch (mutation) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    case 'swap_type':
      set(
        rng.weighted<() => unknown>([
          [1, () => (typeof current === 'string' ? randomNumber(rng) : randomString(rng))],
          [1, () => (Array.isArray(current) ? {} : [])],
          [1, () => (typeof current === 'boolean' ? String(current) : rng.chance(0.5))],
          [1, () => randomValue(rng)],
        ])(),
      );
      break;
    case 'huge_string':
      set(hugeString(rng));
      break;
    case 'deep_nesting':
      set(builder.deepPlaceholder(rng));
      break;
    case 'unicode':
      set(typeof current === 'string' && rng.chance(0.5) ? current + randomString(rng, 8) : randomString(rng, 40));
      break;
    case 'number_as_string':
      set(typeof current === 'number' ? String(current) : String(randomNumber(rng)));
      break;
    case 'string_as_number':
      set(typeof current === 'string' && /^-?\d+(\.\d+)?$/.test(current) ? Number(current) : randomNumber(rng));
      break;
    case 'array_for_object':
      set([current]);
      break;
    case 'object_for_array':
      set(Array.isArray(current) ? (current[0] ?? {}) : { 0: current });
      break;
    case 'null':
      set(null);
      break;
    case 'duplicate_element':
      if (Array.isArray(parent)) parent.push(structuredClone(current));
      else if (Array.isArray(current) && current.length) current.push(structuredClone(current[rng.int(current.length)]));
      else set([current, structuredClone(current)]);
      break;
    case 'unknown_key':
      if (current && typeof current === 'object' && !Array.isArray(current))
        (current as Json)[rng.chance(0.5) ? rng.pick(TOKENS) : randomString(rng, 12)] = randomValue(rng);
      else set({ [rng.pick(TOKENS)]: current });
      break;
    case 'token':
      set(rng.pick(TOKENS));
      break;
    case 'empty':
      set(rng.pick([{}, [], '', 0]));
      break;
  }
}

const FIXTURES = webhookFixtureNames();
const FUZZ_IDENTITIES = Array.from({ length: 40 }, (_, i) => ({ userId: `ZZ.${700000 + i}`, waId: `1999000${String(i).padStart(4, '0')}` }));

/** Gives a fixture fresh message and status ids (so it stores new rows), and sometimes a new sender. */
function freshen(rng: Rng, body: Json, caseId: number): void {
  const renameIds = rng.chance(0.75);
  const identity = rng.chance(0.15) ? rng.pick(FUZZ_IDENTITIES) : null;
  let n = 0;
  for (const entry of (body.entry as Json[] | undefined) ?? []) {
    for (const change of (entry.changes as Json[] | undefined) ?? []) {
      const value = change.value as Json | undefined;
      if (!value) continue;
      for (const message of (value.messages as Json[] | undefined) ?? []) {
        if (renameIds) message.id = `wamid.FUZZ.${caseId}.${n++}`;
        // Survey answers carry a conversation id in the row id: feed that parser odd ones too.
        const listReply = ((message.interactive as Json | undefined)?.list_reply as Json | undefined) ?? null;
        if (listReply && rng.chance(0.5)) listReply.id = rng.pick(TOKENS.filter((t) => t.startsWith('csat:')));
        if (identity) {
          if ('from' in message) message.from = identity.waId;
          if ('from_user_id' in message) message.from_user_id = identity.userId;
        }
      }
      for (const status of (value.statuses as Json[] | undefined) ?? []) {
        if (renameIds) status.id = `wamid.FUZZST.${caseId}.${n++}`;
      }
      if (identity) {
        for (const contact of (value.contacts as Json[] | undefined) ?? []) {
          if ('wa_id' in contact) contact.wa_id = identity.waId;
          if ('user_id' in contact) contact.user_id = identity.userId;
        }
      }
    }
  }
}

type Signing = 'valid' | 'missing' | 'empty_header' | 'wrong_secret' | 'garbage' | 'other_body' | 'uppercase_hex' | 'sha1';

interface WebhookCase {
  id: number;
  kind: string;
  body: Buffer;
  signing: Signing;
  signature: string | null;
  expectedStatus: number;
  /** Set when the service must accept the body: what the parser finds in it. */
  events: WebhookEvent[] | null;
}

function sign(rng: Rng, body: Buffer, signing: Signing): string | null {
  const valid = signWebhookBody(body, E2E_SECRET);
  switch (signing) {
    case 'valid':
      return valid;
    case 'missing':
      return null;
    case 'empty_header':
      return '';
    case 'wrong_secret':
      return signWebhookBody(body, rng.pick(['another-secret', `${E2E_SECRET} `, E2E_SECRET.toUpperCase(), '']));
    case 'garbage':
      return rng.pick([
        'sha256=deadbeef',
        `sha256=${rng.bytes(32).toString('hex')}`,
        'sha256=',
        'garbage',
        `sha256=${'0'.repeat(64)}`,
        valid.slice(0, -1),
      ]);
    case 'other_body':
      return signWebhookBody(Buffer.concat([body, Buffer.from(' ')]), E2E_SECRET);
    case 'uppercase_hex':
      return `sha256=${valid.slice('sha256='.length).toUpperCase()}`;
    case 'sha1':
      return `sha1=${valid.slice('sha256='.length)}`;
  }
}

function buildWebhookCase(rng: Rng, id: number, forceRejected: boolean, mutationCounts: Map<string, number>): WebhookCase {
  const builder = new BodyBuilder();
  const kind = rng.weighted([
    [70, 'mutated_fixture'],
    [8, 'fixture'],
    [6, 'batch'],
    [9, 'random_json'],
    [4, 'invalid_json'],
    [3, 'binary'],
  ] as const);
  let body: Buffer;
  switch (kind) {
    case 'fixture':
    case 'mutated_fixture': {
      const fixture = loadWebhookFixture(rng.pick(FIXTURES)) as Json;
      freshen(rng, fixture, id);
      if (kind === 'mutated_fixture') for (let i = rng.range(1, 4); i > 0; i--) mutate(rng, fixture, builder, mutationCounts);
      body = Buffer.from(builder.serialize(fixture));
      break;
    }
    case 'batch': {
      const entries: unknown[] = [];
      for (let i = rng.range(2, 6); i > 0; i--) {
        const fixture = loadWebhookFixture(rng.pick(FIXTURES)) as Json;
        freshen(rng, fixture, id * 100 + i);
        entries.push(...(fixture.entry as unknown[]));
      }
      const batch: Json = { object: 'whatsapp_business_account', entry: entries };
      if (rng.chance(0.5)) mutate(rng, batch, builder, mutationCounts);
      body = Buffer.from(builder.serialize(batch));
      break;
    }
    case 'random_json': {
      const value = rng.chance(0.5)
        ? randomValue(rng)
        : { object: rng.chance(0.7) ? 'whatsapp_business_account' : randomString(rng), entry: randomValue(rng, 1) };
      body = Buffer.from(builder.serialize(value));
      break;
    }
    case 'invalid_json': {
      const text = JSON.stringify(loadWebhookFixture(rng.pick(FIXTURES)));
      body = Buffer.from(
        rng.weighted<() => string>([
          [3, () => text.slice(0, rng.int(text.length))],
          [1, () => `${text}${rng.pick(['}', ',', 'x', ']'])}`],
          [1, () => text.replace(/"/g, "'")],
          [1, () => randomString(rng, 60)],
          [1, () => ''],
        ])(),
      );
      break;
    }
    case 'binary':
      body = rng.bytes(rng.range(0, 4096));
      break;
  }
  const signing: Signing = forceRejected
    ? rng.pick(['missing', 'empty_header', 'wrong_secret', 'garbage', 'other_body', 'uppercase_hex', 'sha1'] as const)
    : rng.weighted([
        [68, 'valid'],
        [9, 'missing'],
        [2, 'empty_header'],
        [8, 'wrong_secret'],
        [5, 'garbage'],
        [4, 'other_body'],
        [2, 'uppercase_hex'],
        [2, 'sha1'],
      ] as const);
  return classify({ id, kind, body, signing, signature: sign(rng, body, signing) });
}

/** What the service must answer, and for accepted bodies what it must store. */
function classify(c: Omit<WebhookCase, 'expectedStatus' | 'events'>): WebhookCase {
  if (c.body.length > MAX_WEBHOOK_BYTES) return { ...c, expectedStatus: 413, events: null };
  if (c.signing === 'missing' || c.signing === 'empty_header') return { ...c, expectedStatus: 401, events: null };
  if (c.signing !== 'valid') return { ...c, expectedStatus: 403, events: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(c.body.toString('utf8'));
  } catch {
    return { ...c, expectedStatus: 400, events: null };
  }
  return { ...c, expectedStatus: 200, events: parseWebhookPayload(parsed) };
}

/** A few signed bodies over the 3 MB limit. */
function oversizeCases(rng: Rng, firstId: number): WebhookCase[] {
  return [0, 1].map((i) => {
    const fixture = loadWebhookFixture('text') as Json;
    freshen(rng, fixture, firstId + i);
    const messages = (((fixture.entry as Json[])[0].changes as Json[])[0].value as Json).messages as Json[];
    (messages[0].text as Json).body = 'x'.repeat(MAX_WEBHOOK_BYTES + 1000 * (i + 1));
    const body = Buffer.from(JSON.stringify(fixture));
    return classify({ id: firstId + i, kind: 'oversize', body, signing: 'valid', signature: signWebhookBody(body, E2E_SECRET) });
  });
}

// ---------------------------------------------------------------------------------------
// API bodies

const AGENT_IDS = ['fuzz-a', 'fuzz-b', 'fuzz.c@example.com', 'fuzz_D-1'];

function validApiBody(rng: Rng, route: string): Json {
  const text = { type: 'text', text: { body: rng.pick(['Hello!', 'Olá 👋', 'We are on it.']) } };
  switch (route) {
    case 'automation':
      return rng.pick<Json>([
        { routing: { mode: rng.pick(['auto', 'manual']), preferLastAgent: rng.chance(0.5) } },
        { unassignedReply: { enabled: true, delaySeconds: rng.int(600), message: text } },
        {
          queueReply: { enabled: rng.chance(0.5), message: text },
          reminder: { enabled: rng.chance(0.5), waitMinutes: rng.range(1, 60), message: text },
        },
        {
          csat: { enabled: true, body: 'How did we do?', buttonText: 'Rate us' },
          autoClose: { enabled: rng.chance(0.5), afterMinutes: rng.range(1, 4320) },
        },
        { iceBreakers: { enabled: true, prompts: ['Track my order', 'Talk to a human'] }, welcome: { enabled: rng.chance(0.5), message: text } },
      ]);
    case 'agent':
      return {
        name: rng.pick(['Alice', 'Bruno Ñandú', '李雷']),
        receptionLimit: rng.range(1, 100),
        status: rng.pick(['online', 'offline']),
        phoneNumberIds: rng.pick([null, [PHONE_NUMBER_ID]]),
      };
    case 'claim':
      return { agentId: rng.pick(AGENT_IDS) };
    case 'messages':
      return {
        agentId: rng.pick(AGENT_IDS),
        message: rng.pick<Json>([
          text,
          { type: 'image', image: { link: 'https://example.com/a.jpg', caption: 'look' } },
          {
            type: 'interactive',
            interactive: { type: 'button', body: { text: 'Pick' }, action: { buttons: [{ type: 'reply', reply: { id: 'y', title: 'Yes' } }] } },
          },
        ]),
      };
    default:
      return rng.chance(0.5) ? {} : { agentId: rng.pick(AGENT_IDS) };
  }
}

interface ApiCase {
  route: string;
  method: string;
  path: string;
  body: string;
}

function buildApiCase(rng: Rng, conversationIds: string[], mutationCounts: Map<string, number>): ApiCase {
  const route = rng.pick(['automation', 'agent', 'claim', 'messages', 'close'] as const);
  // encodeURIComponent throws on lone surrogates; a client could only send their UTF-8 replacement.
  const wellFormed = (text: string) => text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  const junkId = () => encodeURIComponent(wellFormed(rng.chance(0.5) ? randomString(rng, 20) || 'x' : rng.pick(TOKENS) || 'y'));
  let path: string;
  if (route === 'automation') {
    path = `/numbers/${rng.weighted([
      [6, PHONE_NUMBER_ID],
      [2, String(rng.int(1e9))],
      [2, junkId()],
    ] as const)}/automation`;
  } else if (route === 'agent') {
    path = `/agents/${rng.weighted([
      [7, rng.pick(AGENT_IDS)],
      [3, junkId()],
    ] as const)}`;
  } else {
    const id = rng.weighted([
      [6, conversationIds.length ? rng.pick(conversationIds) : '11111111-1111-4111-8111-111111111111'],
      [2, '00000000-0000-4000-8000-000000000000'],
      [2, junkId()],
    ] as const);
    path = `/conversations/${id}/${route}`;
  }
  const builder = new BodyBuilder();
  let body: string;
  const style = rng.weighted([
    [3, 'valid'],
    [4, 'values'],
    [4, 'mutated'],
    [1, 'random_json'],
    [1, 'invalid_json'],
  ] as const);
  tally(mutationCounts, `api:${style}`);
  if (style === 'invalid_json') {
    body = rng.pick(['{', '{"agentId":', 'nope', '[1,2', '{"a":1}}', '\u0000']);
  } else if (style === 'random_json') {
    body = builder.serialize(randomValue(rng));
  } else {
    const valid = validApiBody(rng, route);
    if (style === 'values') {
      // Same shape, odd values: the body passes the schema more often and reaches the database and workflows.
      const leaves = allNodes(valid).filter(({ parent, key }) => typeof (parent as Record<string | number, unknown>)[key] !== 'object');
      for (let i = rng.range(1, 2); i > 0 && leaves.length; i--) {
        const { parent, key } = rng.pick(leaves);
        const old = (parent as Record<string | number, unknown>)[key];
        (parent as Record<string | number, unknown>)[key] =
          typeof old === 'string'
            ? rng.pick([randomString(rng, 30), rng.pick(TOKENS), `${old}${randomString(rng, 4)}`])
            : typeof old === 'number'
              ? randomNumber(rng)
              : randomValue(rng, 3);
      }
      body = JSON.stringify(valid);
    } else if (style === 'mutated') {
      const root: Json = { root: valid };
      for (let i = rng.range(1, 3); i > 0; i--) mutate(rng, root, builder, mutationCounts);
      body = builder.serialize(root.root);
    } else {
      body = JSON.stringify(valid);
    }
  }
  return { route, method: route === 'automation' || route === 'agent' ? 'PUT' : 'POST', path, body };
}

// ---------------------------------------------------------------------------------------

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

function tally<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function describeCase(c: WebhookCase, status: number): string {
  const preview = c.body.subarray(0, 300).toString('utf8');
  return `case ${c.id} (${c.kind}, ${c.signing}, ${c.body.length} bytes) answered ${status}, expected ${c.expectedStatus}: ${JSON.stringify(preview)}`;
}

async function count(s: ServiceUnderTest, table: string): Promise<number> {
  const [{ n }] = await s.db(table).count<{ n: string }[]>('* as n');
  return Number(n);
}

describe('webhook and API fuzz against the running service (seeded)', function () {
  this.timeout(300_000);
  let s: ServiceUnderTest;
  const rng = new Rng(SEED);
  const mutationCounts = new Map<string, number>();
  const started = Date.now();

  before(async () => {
    s = await startServiceUnderTest();
  });
  after(async () => s?.stop());

  async function post(c: WebhookCase): Promise<number> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (c.signature !== null) headers['x-hub-signature-256'] = c.signature;
    const response = await fetch(`${s.baseUrl}/webhooks/whatsapp`, { method: 'POST', headers, body: c.body });
    await response.arrayBuffer();
    return response.status;
  }

  it('rejects every unsigned or wrongly signed webhook with 401/403 and stores nothing', async () => {
    const cases = Array.from({ length: REJECTED_ONLY_CASES }, (_, i) => buildWebhookCase(rng, i, true, mutationCounts));
    const wrong: string[] = [];
    const statuses = new Map<number, number>();
    await pool(cases, IN_FLIGHT, async (c) => {
      const status = await post(c);
      tally(statuses, status);
      if (status !== c.expectedStatus) wrong.push(describeCase(c, status));
    });
    console.log(`  rejected-only phase: ${cases.length} webhook posts, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.deepEqual(wrong, []);
    assert.ok([...statuses.keys()].every((status) => status === 401 || status === 403));
    await new Promise((r) => setTimeout(r, 500));
    for (const table of ['messages', 'contacts', 'conversations', 'message_status_events', 'webhook_other_events', 'csat_answers']) {
      assert.equal(await count(s, table), 0, `${table} after rejected webhooks`);
    }
    assert.equal(s.graph.requests.length, 0, 'no Graph API call after rejected webhooks');
  });

  it('answers every webhook as expected, never 5xx, and stores exactly the events of the accepted bodies', async () => {
    const cases = [
      ...Array.from({ length: MIXED_CASES }, (_, i) => buildWebhookCase(rng, REJECTED_ONLY_CASES + i, false, mutationCounts)),
      ...oversizeCases(rng, REJECTED_ONLY_CASES + MIXED_CASES),
    ];
    const byKind = new Map<string, number>();
    const bySigning = new Map<string, number>();
    const statuses = new Map<number, number>();
    const wrong: string[] = [];
    const phaseStart = Date.now();
    await pool(cases, IN_FLIGHT, async (c) => {
      tally(byKind, c.kind);
      tally(bySigning, c.signing);
      const status = await post(c);
      tally(statuses, status);
      if (status !== c.expectedStatus) wrong.push(describeCase(c, status));
    });
    const seconds = (Date.now() - phaseStart) / 1000;

    const expectedInbound = new Set<string>();
    const expectedStatusEvents = new Set<string>();
    let expectedOther = 0;
    let acceptedBodies = 0;
    for (const c of cases) {
      if (!c.events) continue;
      acceptedBodies++;
      for (const e of c.events) {
        if (e.kind === 'message') expectedInbound.add(e.wamid);
        else if (e.kind === 'status') expectedStatusEvents.add(JSON.stringify([e.wamid, e.rawStatus]));
        else expectedOther++;
      }
    }
    console.log(
      `  mixed phase: ${cases.length} webhook posts in ${seconds.toFixed(1)} s (${IN_FLIGHT} in flight)\n` +
        `    kinds ${JSON.stringify(Object.fromEntries(byKind))}\n` +
        `    signing ${JSON.stringify(Object.fromEntries(bySigning))}\n` +
        `    statuses ${JSON.stringify(Object.fromEntries(statuses))}\n` +
        `    mutations so far ${JSON.stringify(Object.fromEntries(mutationCounts))}\n` +
        `    accepted bodies ${acceptedBodies}: ${expectedInbound.size} distinct inbound wamids, ${expectedStatusEvents.size} distinct (wamid,status), ${expectedOther} other events`,
    );
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} webhook answers differ from the expected status`);
    assert.ok(
      [...statuses.keys()].every((status) => status < 500),
      `5xx answers: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );

    const storedInbound = new Set(await s.db('messages').where({ direction: 'inbound' }).pluck('wamid'));
    const missing = [...expectedInbound].filter((w) => !storedInbound.has(w));
    const unexpected = [...storedInbound].filter((w) => !expectedInbound.has(w));
    assert.deepEqual(
      { missing: missing.slice(0, 10), unexpected: unexpected.slice(0, 10) },
      { missing: [], unexpected: [] },
      'inbound wamids in the database',
    );
    assert.equal(storedInbound.size, expectedInbound.size);

    const storedStatuses = new Set(
      (await s.db('message_status_events').select('wamid', 'status')).map((r: { wamid: string; status: string }) =>
        JSON.stringify([r.wamid, r.status]),
      ),
    );
    assert.deepEqual(
      {
        missing: [...expectedStatusEvents].filter((k) => !storedStatuses.has(k)).slice(0, 10),
        unexpected: [...storedStatuses].filter((k) => !expectedStatusEvents.has(k)).slice(0, 10),
      },
      { missing: [], unexpected: [] },
      'status events in the database',
    );
    assert.equal(await count(s, 'webhook_other_events'), expectedOther, 'webhook_other_events rows = OtherEvents of the accepted bodies');
  });

  it('never answers 5xx to random bodies on the JSON API', async () => {
    // Agents to claim with, so claims and replies reach the conversation workflows.
    for (const id of AGENT_IDS) {
      const created = await s.api('PUT', `/agents/${encodeURIComponent(id)}`, { name: `Agent ${id}`, receptionLimit: 5, status: 'offline' });
      assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created));
    }
    const conversationIds: string[] = await s.db('conversations').orderBy('opened_at').limit(40).pluck('id');
    const cases = Array.from({ length: API_CASES }, () => buildApiCase(rng, conversationIds, mutationCounts));
    const byRoute = new Map<string, Map<number, number>>();
    const failures: string[] = [];
    await pool(cases, IN_FLIGHT, async (c) => {
      const { status, body } = await s.api(c.method, c.path, c.body);
      if (!byRoute.has(c.route)) byRoute.set(c.route, new Map());
      tally(byRoute.get(c.route)!, status);
      if (status >= 500)
        failures.push(`${c.method} ${c.path} ${JSON.stringify(c.body.slice(0, 300))} → ${status} ${JSON.stringify(body).slice(0, 300)}`);
    });
    console.log(
      `  API phase: ${cases.length} requests, statuses per route ${JSON.stringify(Object.fromEntries([...byRoute].map(([route, m]) => [route, Object.fromEntries(m)])))}`,
    );
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} API answers were 5xx`);
  });

  it('is still up and healthy after all of it', async () => {
    const health = await fetch(`${s.baseUrl}/healthz`);
    assert.equal(health.status, 200, await health.text());
    console.log(`  whole fuzz file: ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED.toString(16)})`);
  });
});
