import assert from 'node:assert/strict';

import type { ContactIdentity, InboundContent, InboundMessageEvent, OtherEvent, StatusEvent, WebhookEvent } from '../../src/whatsapp/webhook-events';
import { parseWebhookPayload } from '../../src/whatsapp/webhook-parser';
import { loadWebhookFixture, webhookFixtureNames } from '../fixtures/webhooks';

type Json = Record<string, unknown>;

const PNID = '106540352242922';
const RECEIVED_AT = new Date('2026-05-01T12:00:00.000Z');
const OUT1 = 'wamid.HBgNNTUxMTk5OTk5MDAwMBUCABEYEjQ0QTU3RjFDOEU2QjNEMjE5RQA=';
const OUT2 = 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QUNDMEQ3QjVGMjlBNEQ3NzUA';

const ANA: ContactIdentity = {
  key: 'BR.1480625993027561234',
  userId: 'BR.1480625993027561234',
  waId: '5511999990000',
  profileName: 'Ana Souza',
};
const BEN: ContactIdentity = {
  key: 'US.13491208655302741918',
  userId: 'US.13491208655302741918',
  waId: '16505551234',
  profileName: 'Ben Carter',
};

// ---------------------------------------------------------------------------------------
// Helpers

function parse(body: unknown): WebhookEvent[] {
  return parseWebhookPayload(body, RECEIVED_AT);
}

function at(value: unknown, ...path: (string | number)[]): Json {
  let node = value;
  for (const step of path) node = (node as Record<string | number, unknown>)[step];
  return node as Json;
}

/** The messages[i] object of the first entry/change, i.e. what `raw` must be. */
function rawMessage(body: unknown, index = 0): Json {
  return at(body, 'entry', 0, 'changes', 0, 'value', 'messages', index);
}

function rawStatus(body: unknown, index = 0): Json {
  return at(body, 'entry', 0, 'changes', 0, 'value', 'statuses', index);
}

function seconds(unix: number): Date {
  return new Date(unix * 1000);
}

interface ExpectedMessage {
  sentAt: Date;
  type: InboundMessageEvent['type'];
  rawType?: string;
  contact?: ContactIdentity;
  content: InboundContent;
  opensServiceWindow: boolean;
  contextMessageId?: string | null;
  referral?: Json | null;
  errors?: InboundMessageEvent['errors'];
}

function expectedMessage(raw: Json, e: ExpectedMessage): InboundMessageEvent {
  return {
    kind: 'message',
    phoneNumberId: PNID,
    wamid: raw.id as string,
    sentAt: e.sentAt,
    type: e.type,
    rawType: e.rawType ?? e.type,
    contact: e.contact ?? ANA,
    content: e.content,
    contextMessageId: e.contextMessageId ?? null,
    referral: e.referral ?? null,
    errors: e.errors ?? [],
    opensServiceWindow: e.opensServiceWindow,
    raw,
  };
}

/** Parses a single-message fixture and checks the one event it yields. */
function assertSingleMessage(name: string, e: ExpectedMessage): InboundMessageEvent {
  const body = loadWebhookFixture(name);
  const events = parse(body);
  assert.deepEqual(events, [expectedMessage(rawMessage(body), e)]);
  const event = events[0] as InboundMessageEvent;
  assert.equal(event.raw, rawMessage(body), 'raw is the original object, not a copy');
  return event;
}

function envelope(value: Json, field = 'messages'): Json {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: PNID }, ...value },
            field,
          },
        ],
      },
    ],
  };
}

function onlyEvent<T extends WebhookEvent>(events: WebhookEvent[], kind: T['kind']): T {
  assert.equal(events.length, 1, `expected one event, got ${JSON.stringify(events.map((e) => e.kind))}`);
  assert.equal(events[0]!.kind, kind);
  return events[0] as T;
}

// ---------------------------------------------------------------------------------------
// Fixtures, one per inbound type

describe('parseWebhookPayload', () => {
  describe('fixtures', () => {
    it('ships every fixture the suite expects', () => {
      assert.deepEqual(webhookFixtureNames(), [
        'audio-voice',
        'batch-many',
        'bsuid-empty-phone',
        'bsuid-no-phone',
        'contacts',
        'document',
        'duplicates',
        'image',
        'interactive-button-reply',
        'interactive-list-reply',
        'interactive-without-body-error',
        'location',
        'reaction',
        'reaction-removed',
        'referral-ctwa',
        'request-welcome',
        'status-failed',
        'statuses-out-of-order',
        'sticker',
        'system',
        'template-button',
        'text',
        'unknown-type',
        'unsupported',
        'value-errors',
        'video',
      ]);
    });

    it('text: BSUID from from_user_id is the key, phone kept as waId', () => {
      const event = assertSingleMessage('text', {
        sentAt: seconds(1750000000),
        type: 'text',
        content: { kind: 'text', body: 'Hi there, my order #4521 has not arrived yet' },
        opensServiceWindow: true,
      });
      assert.equal(event.wamid, 'wamid.HBgNNTUxMTk5OTk5MDAwMBUCABIYFjNFQjAxQzFBMkQ0RTVGNjA3ODkxQUIyAA==');
      assert.equal(event.sentAt.toISOString(), '2025-06-15T15:06:40.000Z');
    });

    it('image: pre-BSUID payload is keyed by phone', () => {
      assertSingleMessage('image', {
        sentAt: seconds(1750000060),
        type: 'image',
        contact: { key: '5511999990000', userId: null, waId: '5511999990000', profileName: 'Ana Souza' },
        content: {
          kind: 'media',
          mediaType: 'image',
          mediaId: '1003383421387256',
          mimeType: 'image/jpeg',
          caption: 'This is the damaged box',
          filename: null,
        },
        opensServiceWindow: true,
      });
    });

    it('video: no from_user_id, so the BSUID comes from the contact matched by wa_id', () => {
      assertSingleMessage('video', {
        sentAt: seconds(1750000120),
        type: 'video',
        contact: ANA,
        content: { kind: 'media', mediaType: 'video', mediaId: '1216985652851470', mimeType: 'video/mp4', caption: null, filename: null },
        opensServiceWindow: true,
      });
    });

    it('audio-voice: voice recording flagged', () => {
      assertSingleMessage('audio-voice', {
        sentAt: seconds(1750000180),
        type: 'audio',
        content: {
          kind: 'media',
          mediaType: 'audio',
          mediaId: '1560213474836950',
          mimeType: 'audio/ogg; codecs=opus',
          caption: null,
          filename: null,
          voice: true,
        },
        opensServiceWindow: true,
      });
    });

    it('document: filename and caption', () => {
      assertSingleMessage('document', {
        sentAt: seconds(1750000240),
        type: 'document',
        content: {
          kind: 'media',
          mediaType: 'document',
          mediaId: '884163617018937',
          mimeType: 'application/pdf',
          caption: 'Receipt for order 4521',
          filename: 'receipt-4521.pdf',
        },
        opensServiceWindow: true,
      });
    });

    it('sticker: animated flag', () => {
      assertSingleMessage('sticker', {
        sentAt: seconds(1750000300),
        type: 'sticker',
        content: {
          kind: 'media',
          mediaType: 'sticker',
          mediaId: '2151958465167337',
          mimeType: 'image/webp',
          caption: null,
          filename: null,
          animated: false,
        },
        opensServiceWindow: true,
      });
    });

    it('location: coordinates, name and address', () => {
      assertSingleMessage('location', {
        sentAt: seconds(1750000360),
        type: 'location',
        content: {
          kind: 'location',
          latitude: -23.561414,
          longitude: -46.655881,
          name: 'MASP',
          address: 'Av. Paulista, 1578 - Bela Vista, São Paulo',
        },
        opensServiceWindow: true,
      });
    });

    it('contacts: every shared card by formatted_name, sender still from value.contacts', () => {
      assertSingleMessage('contacts', {
        sentAt: seconds(1750000420),
        type: 'contacts',
        content: { kind: 'contacts', names: ['Chandler Bing', 'Monica Geller'] },
        opensServiceWindow: true,
      });
    });

    it('interactive-button-reply: button id/title and context', () => {
      assertSingleMessage('interactive-button-reply', {
        sentAt: seconds(1750000480),
        type: 'interactive',
        content: { kind: 'button_reply', id: 'order-status', title: 'Order status' },
        contextMessageId: OUT1,
        opensServiceWindow: true,
      });
    });

    it('interactive-list-reply: row id/title/description', () => {
      assertSingleMessage('interactive-list-reply', {
        sentAt: seconds(1750000540),
        type: 'interactive',
        content: { kind: 'list_reply', id: 'csat-5', title: '5 Very satisfied', description: 'Everything went great' },
        contextMessageId: OUT1,
        opensServiceWindow: true,
      });
    });

    it('interactive-without-body-error: content other, value-level 131000 attached and also reported', () => {
      const body = loadWebhookFixture('interactive-without-body-error');
      const events = parse(body);
      const error = { code: 131000, title: 'Something went wrong', message: 'Something went wrong', details: 'Unsupported webhook payload' };
      assert.deepEqual(events, [
        expectedMessage(rawMessage(body), {
          sentAt: seconds(1750000600),
          type: 'interactive',
          content: { kind: 'other', type: 'interactive' },
          contextMessageId: OUT1,
          errors: [error],
          opensServiceWindow: true,
        }),
        {
          kind: 'other',
          phoneNumberId: PNID,
          field: 'messages',
          reason: 'value error 131000',
          raw: at(body, 'entry', 0, 'changes', 0, 'value', 'errors', 0),
        },
      ]);
    });

    it('template-button: quick-reply payload and label', () => {
      assertSingleMessage('template-button', {
        sentAt: seconds(1750000660),
        type: 'button',
        content: { kind: 'template_button', payload: 'STOP_PROMOTIONS', text: 'Stop promotions' },
        contextMessageId: OUT1,
        opensServiceWindow: true,
      });
    });

    it('reaction: emoji on our message, does not open the window', () => {
      assertSingleMessage('reaction', {
        sentAt: seconds(1750000720),
        type: 'reaction',
        content: { kind: 'reaction', messageId: OUT1, emoji: '\u{1F44D}' },
        opensServiceWindow: false,
      });
    });

    it('reaction-removed: omitted emoji means unreact', () => {
      assertSingleMessage('reaction-removed', {
        sentAt: seconds(1750000780),
        type: 'reaction',
        content: { kind: 'reaction', messageId: OUT1, emoji: null },
        opensServiceWindow: false,
      });
    });

    it('system: no contacts[], keyed by from (the old number)', () => {
      assertSingleMessage('system', {
        sentAt: seconds(1750269342),
        type: 'system',
        contact: { key: '16505551234', userId: null, waId: '16505551234', profileName: null },
        content: { kind: 'system', systemType: 'user_changed_number', body: 'User Ben Carter changed from 16505551234 to 12195555358' },
        opensServiceWindow: false,
      });
    });

    it('unsupported: unsupported.type and errors[]', () => {
      assertSingleMessage('unsupported', {
        sentAt: seconds(1750000840),
        type: 'unsupported',
        content: { kind: 'unsupported', unsupportedType: 'poll_creation' },
        errors: [
          { code: 131051, title: 'Message type unknown', message: 'Message type unknown', details: 'Message type is currently not supported.' },
        ],
        opensServiceWindow: false,
      });
    });

    it('request-welcome: no member object', () => {
      assertSingleMessage('request-welcome', {
        sentAt: seconds(1750000900),
        type: 'request_welcome',
        content: { kind: 'request_welcome' },
        opensServiceWindow: false,
      });
    });

    it('referral-ctwa: referral kept as sent', () => {
      const body = loadWebhookFixture('referral-ctwa');
      const event = assertSingleMessage('referral-ctwa', {
        sentAt: seconds(1750000960),
        type: 'text',
        content: { kind: 'text', body: 'Hello! Can I get more info on this?' },
        referral: at(rawMessage(body), 'referral'),
        opensServiceWindow: true,
      });
      assert.equal(event.referral?.ctwa_clid, at(rawMessage(body), 'referral').ctwa_clid);
      assert.equal(event.referral?.source_type, 'ad');
    });

    it('bsuid-no-phone: phone fields absent, keyed by BSUID, waId null', () => {
      assertSingleMessage('bsuid-no-phone', {
        sentAt: seconds(1775001000),
        type: 'text',
        contact: { key: 'BR.5518235870012647731', userId: 'BR.5518235870012647731', waId: null, profileName: 'Carla' },
        content: { kind: 'text', body: 'Oi, tudo bem?' },
        opensServiceWindow: true,
      });
    });

    it('bsuid-empty-phone: "" phone fields count as absent', () => {
      assertSingleMessage('bsuid-empty-phone', {
        sentAt: seconds(1775001060),
        type: 'text',
        contact: { key: 'DE.9012876543210987654', userId: 'DE.9012876543210987654', waId: null, profileName: 'Dmitri' },
        content: { kind: 'text', body: 'Hallo' },
        opensServiceWindow: true,
      });
    });

    it('unknown-type: stored as unknown with the raw type', () => {
      assertSingleMessage('unknown-type', {
        sentAt: seconds(1750001020),
        type: 'unknown',
        rawType: 'poll_vote',
        content: { kind: 'other', type: 'poll_vote' },
        opensServiceWindow: false,
      });
    });

    it('status-failed: 131047 mapped with details, recipient ids kept', () => {
      const body = loadWebhookFixture('status-failed');
      const expected: StatusEvent = {
        kind: 'status',
        phoneNumberId: PNID,
        wamid: OUT1,
        status: 'failed',
        rawStatus: 'failed',
        at: seconds(1751142888),
        recipient: { userId: ANA.userId, waId: ANA.waId },
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
          },
        ],
        raw: rawStatus(body),
      };
      assert.deepEqual(parse(body), [expected]);
    });

    it('statuses-out-of-order: both kept, in delivery order (read before delivered)', () => {
      const body = loadWebhookFixture('statuses-out-of-order');
      const events = parse(body) as StatusEvent[];
      assert.deepEqual(
        events.map((e) => [e.kind, e.wamid, e.status, e.at.getTime() / 1000, e.recipient.userId]),
        [
          ['status', OUT1, 'read', 1750004010, ANA.userId],
          ['status', OUT1, 'delivered', 1750004005, ANA.userId],
        ],
      );
      assert.equal(events[0]!.raw, rawStatus(body, 0));
      assert.deepEqual(events[1]!.errors, []);
    });

    it('value-errors: one OtherEvent per value-level error', () => {
      const body = loadWebhookFixture('value-errors');
      const errors = at(body, 'entry', 0, 'changes', 0, 'value', 'errors') as unknown as Json[];
      assert.deepEqual(parse(body), [
        { kind: 'other', phoneNumberId: PNID, field: 'messages', reason: 'value error 130429', raw: errors[0] },
        { kind: 'other', phoneNumberId: PNID, field: 'messages', reason: 'value error 131016', raw: errors[1] },
      ]);
    });

    it('duplicates: both copies returned (dedup by wamid is the caller’s job)', () => {
      const events = parse(loadWebhookFixture('duplicates')) as InboundMessageEvent[];
      assert.equal(events.length, 2);
      assert.deepEqual(events[0], events[1]);
      assert.equal(events[0]!.wamid, 'wamid.HBgNNTUxMTk5OTk5MDAwMBUCABIYFjNFQjAHQzNENEU1RjZBN0I4QzlEMEUxAA==');
    });

    it('batch-many: every entry, change, message and status, in order', () => {
      const events = parse(loadWebhookFixture('batch-many'));
      assert.equal(events.length, 8);
      assert.deepEqual(
        events.map((e) =>
          e.kind === 'message'
            ? `message:${e.type}:${e.contact.key}:${e.phoneNumberId}`
            : e.kind === 'status'
              ? `status:${e.status}:${e.wamid}:${e.phoneNumberId}`
              : `other:${e.field}:${e.reason}`,
        ),
        [
          `message:text:${BEN.key}:${PNID}`,
          `message:text:${ANA.key}:${PNID}`,
          `message:image:${ANA.key}:${PNID}`,
          `status:sent:${OUT1}:${PNID}`,
          `status:delivered:${OUT1}:${PNID}`,
          'other:message_template_status_update:field message_template_status_update is not processed',
          `message:reaction:${BEN.key}:113269274970227`,
          `status:read:${OUT2}:113269274970227`,
        ],
      );
      const [benText, anaText] = events as InboundMessageEvent[];
      assert.deepEqual(benText!.contact, BEN, 'contacts[] matched per message, not by position');
      assert.deepEqual(anaText!.contact, ANA);
      const other = events[5] as OtherEvent;
      assert.equal(other.phoneNumberId, null);
      assert.equal(at(other.raw, 'field') as unknown, 'message_template_status_update');
    });
  });

  // -------------------------------------------------------------------------------------
  // Edge cases

  describe('edge cases', () => {
    const notWaba = { kind: 'other', phoneNumberId: null, field: '', reason: 'object is not whatsapp_business_account' };

    it('empty object body -> one OtherEvent', () => {
      assert.deepEqual(parse({}), [{ ...notWaba, raw: {} }]);
    });

    it('non-object bodies -> one OtherEvent each', () => {
      for (const body of [null, undefined, [], [{}], 0, 42, '', 'whatsapp_business_account', true]) {
        assert.deepEqual(parse(body), [{ ...notWaba, raw: body }], JSON.stringify(body));
      }
    });

    it('object that is not whatsapp_business_account -> one OtherEvent', () => {
      const body = { object: 'page', entry: [{ id: '1', messaging: [] }] };
      assert.deepEqual(parse(body), [{ ...notWaba, raw: body }]);
    });

    it('no entries -> no events; entry not an array -> OtherEvent', () => {
      assert.deepEqual(parse({ object: 'whatsapp_business_account', entry: [] }), []);
      const body = { object: 'whatsapp_business_account', entry: {} };
      assert.deepEqual(parse(body), [{ kind: 'other', phoneNumberId: null, field: '', reason: 'entry is not an array', raw: body }]);
    });

    it('message without id -> OtherEvent', () => {
      const message = { from: '5511999990000', timestamp: '1750000000', type: 'text', text: { body: 'hi' } };
      assert.deepEqual(parse(envelope({ messages: [message] })), [
        { kind: 'other', phoneNumberId: PNID, field: 'messages', reason: 'message without id', raw: message },
      ]);
      const emptyId = { ...message, id: '' };
      assert.equal(onlyEvent<OtherEvent>(parse(envelope({ messages: [emptyId] })), 'other').reason, 'message without id');
    });

    it('message without any identity -> OtherEvent', () => {
      const message = { id: 'wamid.X', timestamp: '1750000000', type: 'text', text: { body: 'hi' } };
      for (const value of [
        { messages: [message] },
        { messages: [{ ...message, from: '', from_user_id: '' }], contacts: [{ profile: { name: 'Nobody' }, wa_id: '', user_id: '' }] },
      ]) {
        const event = onlyEvent<OtherEvent>(parse(envelope(value)), 'other');
        assert.match(event.reason, /^message without sender identity/);
        assert.equal(event.phoneNumberId, PNID);
      }
    });

    it('falls back to the only contact when the message carries no ids', () => {
      const message = { from: '', id: 'wamid.X', timestamp: '1750000000', type: 'text', text: { body: 'hi' } };
      const contacts = [{ profile: { name: 'Eve' }, user_id: 'FR.42' }];
      const event = onlyEvent<InboundMessageEvent>(parse(envelope({ contacts, messages: [message] })), 'message');
      assert.deepEqual(event.contact, { key: 'FR.42', userId: 'FR.42', waId: null, profileName: 'Eve' });
    });

    it('does not borrow a lone contact that names someone else', () => {
      const message = { from: '447700900123', id: 'wamid.X', timestamp: '1750000000', type: 'text', text: { body: 'hi' } };
      const contacts = [{ profile: { name: 'Other' }, wa_id: '5511999990000', user_id: 'BR.1' }];
      const event = onlyEvent<InboundMessageEvent>(parse(envelope({ contacts, messages: [message] })), 'message');
      assert.deepEqual(event.contact, { key: '447700900123', userId: null, waId: '447700900123', profileName: null });
    });

    it('timestamp: numbers accepted, missing or invalid falls back to receivedAt', () => {
      const base = { from: '5511999990000', id: 'wamid.X', type: 'text', text: { body: 'hi' } };
      const sentAt = (timestamp: unknown) =>
        onlyEvent<InboundMessageEvent>(parse(envelope({ messages: [{ ...base, timestamp }] })), 'message').sentAt;
      assert.deepEqual(sentAt(1750000000), seconds(1750000000));
      assert.deepEqual(sentAt('1750000000'), seconds(1750000000));
      for (const bad of [undefined, null, '', 'yesterday', '-5', '1e3', -1, 1e20, {}, []]) {
        assert.deepEqual(sentAt(bad), RECEIVED_AT, JSON.stringify(bad));
      }
      const defaulted = parseWebhookPayload(envelope({ messages: [base] }))[0] as InboundMessageEvent;
      assert.ok(Math.abs(defaulted.sentAt.getTime() - Date.now()) < 60_000, 'receivedAt defaults to now');
    });

    it('reaction with "" emoji is an unreact', () => {
      const message = { from: '5511999990000', id: 'wamid.X', timestamp: '1750000000', type: 'reaction', reaction: { message_id: OUT1, emoji: '' } };
      const event = onlyEvent<InboundMessageEvent>(parse(envelope({ messages: [message] })), 'message');
      assert.deepEqual(event.content, { kind: 'reaction', messageId: OUT1, emoji: null });
    });

    it('interactive subtypes other than button/list replies', () => {
      const content = (interactive: unknown) =>
        onlyEvent<InboundMessageEvent>(
          parse(envelope({ messages: [{ from: '1', id: 'wamid.X', timestamp: '1', type: 'interactive', interactive }] })),
          'message',
        ).content;
      assert.deepEqual(content({ type: 'nfm_reply', nfm_reply: { response_json: '{"flow_token":"t"}', body: 'Sent', name: 'flow' } }), {
        kind: 'other',
        type: 'interactive:nfm_reply',
      });
      assert.deepEqual(content({ type: 'call_permission_reply', call_permission_reply: { response: 'accept' } }), {
        kind: 'other',
        type: 'interactive:call_permission_reply',
      });
      assert.deepEqual(content({ button_reply: { id: 'a', title: 'A' } }), { kind: 'other', type: 'interactive:unknown' });
      assert.deepEqual(content({ type: 'list_reply', list_reply: { id: 'r1', title: 'Row' } }), {
        kind: 'list_reply',
        id: 'r1',
        title: 'Row',
        description: null,
      });
    });

    it('order, edit and revoke: other content; only order opens the window', () => {
      const cases = [
        [
          'order',
          { catalog_id: '1', text: 'cart', product_items: [{ product_retailer_id: 'sku', quantity: 1, item_price: 10, currency: 'BRL' }] },
          true,
        ],
        ['edit', { original_message_id: 'wamid.O', message: { type: 'text', text: { body: 'fixed' } } }, false],
        ['revoke', { original_message_id: 'wamid.O' }, false],
      ] as const;
      for (const [type, member, opens] of cases) {
        const message = { from: '1', id: 'wamid.X', timestamp: '1', type, [type]: member };
        const event = onlyEvent<InboundMessageEvent>(parse(envelope({ messages: [message] })), 'message');
        assert.equal(event.type, type);
        assert.deepEqual(event.content, { kind: 'other', type });
        assert.equal(event.opensServiceWindow, opens, type);
      }
    });

    it('type names that collide with Object.prototype are just unknown types', () => {
      const body = JSON.parse(
        '{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},' +
          '"messages":[{"from":"1","id":"wamid.A","type":"constructor"},{"from":"1","id":"wamid.B","type":"__proto__","__proto__":{"x":1}}]}}]}]}',
      ) as unknown;
      const events = parse(body) as InboundMessageEvent[];
      assert.deepEqual(
        events.map((e) => [e.type, e.rawType, e.content]),
        [
          ['unknown', 'constructor', { kind: 'other', type: 'constructor' }],
          ['unknown', '__proto__', { kind: 'other', type: '__proto__' }],
        ],
      );
    });

    it('missing member objects and current-location shares', () => {
      const content = (type: string, member?: unknown) =>
        onlyEvent<InboundMessageEvent>(
          parse(envelope({ messages: [{ from: '1', id: 'wamid.X', timestamp: '1', type, ...(member === undefined ? {} : { [type]: member }) }] })),
          'message',
        ).content;
      assert.deepEqual(content('text'), { kind: 'other', type: 'text' });
      assert.deepEqual(content('image', 'not-an-object'), { kind: 'other', type: 'image' });
      assert.deepEqual(content('unsupported'), { kind: 'unsupported', unsupportedType: null });
      assert.deepEqual(content('location', { latitude: 1.5, longitude: -2 }), {
        kind: 'location',
        latitude: 1.5,
        longitude: -2,
        name: null,
        address: null,
      });
    });

    it('statuses: unknown status strings and empty recipient ids', () => {
      const status = { id: OUT1, status: 'deleted', timestamp: '1750000000', recipient_id: '', recipient_user_id: 'US.1' };
      const event = onlyEvent<StatusEvent>(parse(envelope({ statuses: [status] })), 'status');
      assert.equal(event.status, 'unknown');
      assert.equal(event.rawStatus, 'deleted');
      assert.deepEqual(event.recipient, { userId: 'US.1', waId: null });
      const played = onlyEvent<StatusEvent>(parse(envelope({ statuses: [{ ...status, status: 'played' }] })), 'status');
      assert.equal(played.status, 'played');
      assert.equal(onlyEvent<OtherEvent>(parse(envelope({ statuses: [{ status: 'read' }] })), 'other').reason, 'status without id');
    });

    it('routing id missing -> messages and statuses become OtherEvents', () => {
      const body = envelope({
        messages: [{ from: '1', id: 'wamid.X', type: 'text', text: { body: 'hi' } }],
        statuses: [{ id: OUT1, status: 'sent' }],
      });
      delete at(body, 'entry', 0, 'changes', 0, 'value').metadata;
      assert.deepEqual(
        parse(body).map((e) => [e.kind, (e as OtherEvent).reason]),
        [
          ['other', 'message without metadata.phone_number_id'],
          ['other', 'status without metadata.phone_number_id'],
        ],
      );
    });

    it('structural garbage inside the envelope becomes OtherEvents, siblings still parse', () => {
      const good = { from: '1', id: 'wamid.G', timestamp: '1', type: 'text', text: { body: 'ok' } };
      const body = envelope({ messages: [7, null, good, ['x']], statuses: 'nope', errors: [null] });
      (body.entry as unknown[]).push('entry-garbage', { changes: 5 }, { changes: [null, { field: 'messages' }, { field: 'messages', value: {} }] });
      const summary = parse(body).map((e) => (e.kind === 'other' ? e.reason : `${e.kind}:${e.kind === 'message' ? e.wamid : ''}`));
      assert.deepEqual(summary, [
        'message is not an object',
        'message is not an object',
        'message:wamid.G',
        'message is not an object',
        'statuses is not an array',
        'value error without code',
        'entry is not an object',
        'entry.changes is not an array',
        'change is not an object',
        'change.value is not an object',
        'value has no messages, statuses or errors',
      ]);
    });

    it('changes without a field are reported, not processed', () => {
      const body = envelope({ messages: [] }, '');
      delete at(body, 'entry', 0, 'changes', 0).field;
      assert.deepEqual(
        parse(body).map((e) => [e.kind, (e as OtherEvent).field, (e as OtherEvent).reason]),
        [['other', '', 'change without field']],
      );
    });
  });

  // -------------------------------------------------------------------------------------
  // Fuzzing: the parser must never throw and its output must stay well-formed

  describe('fuzz', () => {
    const MUTATIONS_PER_FIXTURE = 150;
    const RANDOM_BODIES = 500;

    it(`never throws on ${MUTATIONS_PER_FIXTURE} mutations of each fixture and ${RANDOM_BODIES} random bodies`, () => {
      const rand = mulberry32(0x5eed_2026);
      const names = webhookFixtureNames();
      let cases = 0;
      for (const name of names) {
        for (let i = 0; i < MUTATIONS_PER_FIXTURE; i++) {
          let body: unknown = loadWebhookFixture(name);
          const rounds = 1 + Math.floor(rand() * 6);
          for (let r = 0; r < rounds; r++) body = mutate(body, rand);
          checkWellFormed(body, `${name} #${i}`);
          cases++;
        }
      }
      for (let i = 0; i < RANDOM_BODIES; i++) {
        const body = rand() < 0.5 ? randomJson(rand, 4) : { object: 'whatsapp_business_account', entry: randomJson(rand, 5) };
        checkWellFormed(body, `random #${i}`);
        cases++;
      }
      assert.equal(cases, names.length * MUTATIONS_PER_FIXTURE + RANDOM_BODIES);
    });
  });
});

// ---------------------------------------------------------------------------------------
// Fuzz helpers

function checkWellFormed(body: unknown, label: string): void {
  let events: WebhookEvent[];
  try {
    events = parseWebhookPayload(body, RECEIVED_AT);
  } catch (err) {
    assert.fail(`${label}: threw ${String(err)} on ${JSON.stringify(body)}`);
  }
  assert.ok(Array.isArray(events), label);
  for (const e of events) {
    const where = `${label}: ${JSON.stringify(e)}`;
    if (e.kind === 'other') {
      assert.ok(typeof e.reason === 'string' && e.reason.length > 0, where);
      assert.ok(!e.reason.startsWith('internal parser error'), where);
    } else if (e.kind === 'message') {
      assert.ok(e.phoneNumberId && e.wamid && e.contact.key, where);
      assert.ok(!Number.isNaN(e.sentAt.getTime()), where);
      assert.ok(Array.isArray(e.errors) && typeof e.content.kind === 'string', where);
    } else {
      assert.equal(e.kind, 'status', where);
      assert.ok(e.phoneNumberId && e.wamid, where);
      assert.ok(!Number.isNaN(e.at.getTime()), where);
    }
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** Keys and strings that steer mutations into the parser's interesting branches. */
const KEY_POOL = [
  'object',
  'entry',
  'changes',
  'field',
  'value',
  'metadata',
  'phone_number_id',
  'contacts',
  'messages',
  'statuses',
  'errors',
  'id',
  'from',
  'from_user_id',
  'user_id',
  'wa_id',
  'profile',
  'name',
  'timestamp',
  'type',
  'text',
  'body',
  'interactive',
  'button_reply',
  'list_reply',
  'reaction',
  'emoji',
  'context',
  'referral',
  'status',
  'error_data',
  'code',
  'unsupported',
  'system',
  'constructor',
  'toString',
  'hasOwnProperty',
] as const;
const STRING_POOL = [
  '',
  ' ',
  'messages',
  'whatsapp_business_account',
  'text',
  'interactive',
  'button_reply',
  'list_reply',
  'reaction',
  'unsupported',
  'system',
  'status',
  'read',
  'failed',
  '1750000000',
  '-1',
  '99999999999999999999',
  'wamid.FUZZ',
  'BR.123',
  'constructor',
  '\u0000',
  '\u{1F600}',
] as const;
const NUMBER_POOL = [0, -0, 1, -1, 0.5, 131000, 1750000000, 1e21, -1e308, Number.MAX_SAFE_INTEGER] as const;

function randomJson(rand: () => number, depth: number): unknown {
  const roll = Math.floor(rand() * (depth > 0 ? 7 : 5));
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick(rand, NUMBER_POOL);
    case 3:
      return pick(rand, STRING_POOL);
    case 4:
      return `s${Math.floor(rand() * 1000)}`;
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(rand, depth - 1));
    default: {
      const obj: Json = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--) obj[pick(rand, KEY_POOL)] = randomJson(rand, depth - 1);
      return obj;
    }
  }
}

interface Slot {
  get(): unknown;
  set(value: unknown): void;
  remove(): void;
}

/** Every value position in the tree (except the root), so a mutation can hit any depth. */
function slots(root: unknown): Slot[] {
  const out: Slot[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ get: () => node[i], set: (v) => (node[i] = v), remove: () => node.splice(i, 1) });
        visit(child);
      });
    } else if (typeof node === 'object' && node !== null) {
      const obj = node as Json;
      for (const key of Object.keys(obj)) {
        out.push({ get: () => obj[key], set: (v) => (obj[key] = v), remove: () => delete obj[key] });
        visit(obj[key]);
      }
    }
  };
  visit(root);
  return out;
}

function mutate(body: unknown, rand: () => number): unknown {
  const targets = slots(body);
  if (targets.length === 0 || rand() < 0.02) return rand() < 0.5 ? [body] : randomJson(rand, 3);
  const slot = pick(rand, targets);
  switch (Math.floor(rand() * 6)) {
    case 0:
      slot.remove();
      break;
    case 1:
      slot.set(randomJson(rand, 2));
      break;
    case 2:
      slot.set([slot.get()]);
      break;
    case 3:
      slot.set('');
      break;
    case 4: {
      const value = slot.get();
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        (value as Json)[pick(rand, KEY_POOL)] = randomJson(rand, 2);
      } else {
        slot.set(pick(rand, STRING_POOL));
      }
      break;
    }
    default: {
      // Swap in a structurally valid but mismatched subtree from elsewhere in the body.
      slot.set(structuredClone(pick(rand, targets).get()));
    }
  }
  return body;
}
