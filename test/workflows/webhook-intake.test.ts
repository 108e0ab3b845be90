/**
 * The webhook intake on real PostgreSQL and the time-skipping Temporal server: every
 * fixture of the corpus goes through the parser and the intake as the receiver does it,
 * and the test reads back what was stored (messages, contacts, status events, other
 * events) and what reached the conversation workflows (signals in their history).
 *
 * Each test gets its own harness (fresh database, fake Graph API, task queue), so the
 * fixtures, which share senders and wamids, never see each other's rows.
 *
 * The time-skipping server is shared by the whole suite, and stopping a worker while one
 * of its activities is in flight stops time skipping for every later test (seen: a later
 * `env.sleep(60_000)` never returned). So every test lets its workflows settle before its
 * worker stops, and terminates them after.
 */
import assert from 'node:assert/strict';
import { isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { parseWebhookPayload } from '../../src/whatsapp/webhook-parser';
import { conversationWorkflowId } from '../../workflows/conversation/contract';
import { welcomeWorkflowId } from '../../workflows/welcome/contract';
import { loadWebhookFixture, webhookFixtureNames } from '../fixtures/webhooks';
import { createConversationHarness, eventually, PHONE_NUMBER_ID, type ConversationHarness } from '../support/conversation-harness';

type Json = Record<string, unknown>;

const OTHER_NUMBER_ID = '113269274970227';
/** The business's outbound messages the fixtures reply to, react to and report on. */
const OUT1 = 'wamid.HBgNNTUxMTk5OTk5MDAwMBUCABEYEjQ0QTU3RjFDOEU2QjNEMjE5RQA=';
const OUT2 = 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QUNDMEQ3QjVGMjlBNEQ3NzUA';

interface ContactRow {
  identity_key: string;
  user_id: string | null;
  wa_id: string | null;
  profile_name: string | null;
}

const ANA: ContactRow = {
  identity_key: 'BR.1480625993027561234',
  user_id: 'BR.1480625993027561234',
  wa_id: '5511999990000',
  profile_name: 'Ana Souza',
};
const BEN: ContactRow = {
  identity_key: 'US.13491208655302741918',
  user_id: 'US.13491208655302741918',
  wa_id: '16505551234',
  profile_name: 'Ben Carter',
};
/** Ana before the BSUID rollout: only her phone number identifies her. */
const ANA_BY_PHONE: ContactRow = { identity_key: '5511999990000', user_id: null, wa_id: '5511999990000', profile_name: 'Ana Souza' };

/**
 * What a customer message becomes: a conversation workflow signal, a row only (reactions,
 * system notices), or the welcome workflow (request_welcome).
 */
type Route = 'conversation' | 'stored_only' | 'welcome';

interface ExpectedInbound {
  /** Where the message sits in the fixture: [entry, change, message]. */
  at: [number, number, number];
  type: string;
  /** The whole `content` column. */
  content: Json;
  contact: ContactRow;
  phoneNumberId?: string;
  firstContact: boolean;
  route: Route;
}

interface Expectation {
  inbound: ExpectedInbound[];
  statusEvents?: [wamid: string, status: string][];
  other?: { field: string; reason: string; phoneNumberId: string | null; raw: (body: Json) => unknown }[];
  contacts: number;
}

/** The `content` column: the normalised content plus context, referral and errors. */
function content(summary: Json, extra: { contextMessageId?: string; referral?: Json; errors?: Json[] } = {}): Json {
  return { ...summary, contextMessageId: extra.contextMessageId ?? null, referral: extra.referral ?? null, errors: extra.errors ?? [] };
}

function valueAt(body: unknown, entry = 0, change = 0): Json {
  return ((((body as Json).entry as Json[])[entry].changes as Json[])[change].value as Json) ?? {};
}

function messageAt(body: unknown, [entry, change, index]: [number, number, number]): Json {
  return (valueAt(body, entry, change).messages as Json[])[index];
}

const single = (type: string, summary: Json, options: Partial<ExpectedInbound> & { extra?: Parameters<typeof content>[1] } = {}): Expectation => ({
  inbound: [
    {
      at: [0, 0, 0],
      type,
      content: content(summary, options.extra),
      contact: options.contact ?? ANA,
      firstContact: true,
      route: options.route ?? 'conversation',
    },
  ],
  contacts: 1,
});

const media = (mediaType: string, fields: Json): Json => ({
  kind: 'media',
  mediaType,
  mediaId: null,
  mimeType: null,
  caption: null,
  filename: null,
  ...fields,
});

/** One entry per fixture; a fixture added to the corpus without one fails the first test. */
const EXPECTATIONS: Record<string, Expectation> = {
  'audio-voice': single('audio', media('audio', { mediaId: '1560213474836950', mimeType: 'audio/ogg; codecs=opus', voice: true })),
  'batch-many': {
    inbound: [
      {
        at: [0, 0, 0],
        type: 'text',
        content: content({ kind: 'text', body: 'Is the store open on Sunday?' }),
        contact: BEN,
        firstContact: true,
        route: 'conversation',
      },
      {
        at: [0, 0, 1],
        type: 'text',
        content: content({ kind: 'text', body: 'Any news on my order?' }),
        contact: ANA,
        firstContact: true,
        route: 'conversation',
      },
      {
        at: [0, 0, 2],
        type: 'image',
        content: content(media('image', { mediaId: '1432201034417734', mimeType: 'image/jpeg' })),
        contact: ANA,
        firstContact: false,
        route: 'conversation',
      },
      {
        at: [1, 0, 0],
        type: 'reaction',
        content: content({ kind: 'reaction', messageId: OUT2, emoji: '❤️' }),
        contact: BEN,
        phoneNumberId: OTHER_NUMBER_ID,
        firstContact: true,
        route: 'stored_only',
      },
    ],
    statusEvents: [
      [OUT1, 'sent'],
      [OUT1, 'delivered'],
      [OUT2, 'read'],
    ],
    other: [
      {
        field: 'message_template_status_update',
        reason: 'field message_template_status_update is not processed',
        phoneNumberId: null,
        raw: (body) => ((body.entry as Json[])[0].changes as Json[])[2],
      },
    ],
    // Ben on each number, Ana on the first.
    contacts: 3,
  },
  'bsuid-empty-phone': single(
    'text',
    { kind: 'text', body: 'Hallo' },
    { contact: { identity_key: 'DE.9012876543210987654', user_id: 'DE.9012876543210987654', wa_id: null, profile_name: 'Dmitri' } },
  ),
  'bsuid-no-phone': single(
    'text',
    { kind: 'text', body: 'Oi, tudo bem?' },
    { contact: { identity_key: 'BR.5518235870012647731', user_id: 'BR.5518235870012647731', wa_id: null, profile_name: 'Carla' } },
  ),
  contacts: single('contacts', { kind: 'contacts', names: ['Chandler Bing', 'Monica Geller'] }),
  document: single(
    'document',
    media('document', { mediaId: '884163617018937', mimeType: 'application/pdf', caption: 'Receipt for order 4521', filename: 'receipt-4521.pdf' }),
  ),
  // The same wamid in two entries of one POST: one row, one signal.
  duplicates: single('text', { kind: 'text', body: 'Hello?' }),
  image: single('image', media('image', { mediaId: '1003383421387256', mimeType: 'image/jpeg', caption: 'This is the damaged box' }), {
    contact: ANA_BY_PHONE,
  }),
  'interactive-button-reply': single(
    'interactive',
    { kind: 'button_reply', id: 'order-status', title: 'Order status' },
    { extra: { contextMessageId: OUT1 } },
  ),
  // "csat-5" is not one of our survey row ids (csat:<conversation>:<score>): an ordinary answer.
  'interactive-list-reply': single(
    'interactive',
    { kind: 'list_reply', id: 'csat-5', title: '5 Very satisfied', description: 'Everything went great' },
    { extra: { contextMessageId: OUT1 } },
  ),
  'interactive-without-body-error': {
    ...single(
      'interactive',
      { kind: 'other', type: 'interactive' },
      {
        extra: {
          contextMessageId: OUT1,
          errors: [{ code: 131000, title: 'Something went wrong', message: 'Something went wrong', details: 'Unsupported webhook payload' }],
        },
      },
    ),
    other: [{ field: 'messages', reason: 'value error 131000', phoneNumberId: PHONE_NUMBER_ID, raw: (body) => (valueAt(body).errors as Json[])[0] }],
  },
  location: single('location', {
    kind: 'location',
    latitude: -23.561414,
    longitude: -46.655881,
    name: 'MASP',
    address: 'Av. Paulista, 1578 - Bela Vista, São Paulo',
  }),
  'reaction-removed': single('reaction', { kind: 'reaction', messageId: OUT1, emoji: null }, { route: 'stored_only' }),
  reaction: single('reaction', { kind: 'reaction', messageId: OUT1, emoji: '👍' }, { route: 'stored_only' }),
  'referral-ctwa': single(
    'text',
    { kind: 'text', body: 'Hello! Can I get more info on this?' },
    {
      extra: {
        referral: {
          source_url: 'https://fb.me/3cr4Wqqkv',
          source_id: '120226305854810726',
          source_type: 'ad',
          body: 'Summer sale: 30% off all sneakers',
          headline: 'Chat with us',
          media_type: 'image',
          image_url: 'https://scontent.xx.fbcdn.net/v/t45.1600-4/ad-image.jpg',
          ctwa_clid: 'ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a',
          welcome_message: { text: 'Hi! How can we help with your sneakers?' },
        },
      },
    },
  ),
  'request-welcome': single('request_welcome', { kind: 'request_welcome' }, { route: 'welcome' }),
  'status-failed': { inbound: [], statusEvents: [[OUT1, 'failed']], contacts: 0 },
  'statuses-out-of-order': {
    inbound: [],
    statusEvents: [
      [OUT1, 'read'],
      [OUT1, 'delivered'],
    ],
    contacts: 0,
  },
  sticker: single('sticker', media('sticker', { mediaId: '2151958465167337', mimeType: 'image/webp', animated: false })),
  // No contacts[] on system messages: the sender is `from` (the old number).
  system: single(
    'system',
    { kind: 'system', systemType: 'user_changed_number', body: 'User Ben Carter changed from 16505551234 to 12195555358' },
    {
      contact: { identity_key: '16505551234', user_id: null, wa_id: '16505551234', profile_name: null },
      route: 'stored_only',
    },
  ),
  'template-button': single(
    'button',
    { kind: 'template_button', payload: 'STOP_PROMOTIONS', text: 'Stop promotions' },
    { extra: { contextMessageId: OUT1 } },
  ),
  text: single('text', { kind: 'text', body: 'Hi there, my order #4521 has not arrived yet' }),
  // Stored under Meta's type name and handed to the conversation like any customer message.
  'unknown-type': single('poll_vote', { kind: 'other', type: 'poll_vote' }),
  unsupported: single(
    'unsupported',
    { kind: 'unsupported', unsupportedType: 'poll_creation' },
    {
      extra: {
        errors: [
          { code: 131051, title: 'Message type unknown', message: 'Message type unknown', details: 'Message type is currently not supported.' },
        ],
      },
    },
  ),
  'value-errors': {
    inbound: [],
    other: [
      { field: 'messages', reason: 'value error 130429', phoneNumberId: PHONE_NUMBER_ID, raw: (body) => (valueAt(body).errors as Json[])[0] },
      { field: 'messages', reason: 'value error 131016', phoneNumberId: PHONE_NUMBER_ID, raw: (body) => (valueAt(body).errors as Json[])[1] },
    ],
    contacts: 0,
  },
  // No from_user_id on the message, but the contacts[] entry with the same wa_id carries the BSUID.
  video: single('video', media('video', { mediaId: '1216985652851470', mimeType: 'video/mp4' })),
};

async function signalsReceived(h: ConversationHarness, workflowId: string): Promise<number> {
  const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'customerMessage').length;
}

async function workflowExists(h: ConversationHarness, workflowId: string): Promise<boolean> {
  try {
    await h.env.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

const GRPC_NOT_FOUND = 5;

/** Every workflow the intake can have started for this harness's contacts. */
async function startedWorkflowIds(h: ConversationHarness): Promise<string[]> {
  const contacts: { id: string; phone_number_id: string }[] = await h.db('contacts').select('id', 'phone_number_id');
  return contacts.flatMap((c) => [conversationWorkflowId(c.phone_number_id, c.id), welcomeWorkflowId(c.phone_number_id, c.id)]);
}

/** Idle: every scheduled activity has closed and the last workflow task has completed. */
async function isIdle(h: ConversationHarness, workflowId: string): Promise<boolean> {
  let events;
  try {
    events = (await h.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  } catch (error) {
    // Never started (fetchHistory reports it as a bare gRPC NOT_FOUND).
    if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND)) return true;
    throw error;
  }
  const activitiesScheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
  const activitiesClosed = events.filter(
    (e) =>
      e.activityTaskCompletedEventAttributes ||
      e.activityTaskFailedEventAttributes ||
      e.activityTaskTimedOutEventAttributes ||
      e.activityTaskCanceledEventAttributes,
  ).length;
  const lastTask = [...events]
    .reverse()
    .find((e) => e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes);
  const closed = events.some(
    (e) =>
      e.workflowExecutionCompletedEventAttributes || e.workflowExecutionContinuedAsNewEventAttributes || e.workflowExecutionTerminatedEventAttributes,
  );
  return closed || (activitiesScheduled === activitiesClosed && Boolean(lastTask?.workflowTaskCompletedEventAttributes));
}

/** Runs `fn` on the harness's worker and keeps the worker until every workflow it started is idle. */
async function runSettled<T>(h: ConversationHarness, fn: () => Promise<T>): Promise<T> {
  return h.run(async () => {
    const result = await fn();
    for (const workflowId of await startedWorkflowIds(h)) await eventually(() => isIdle(h, workflowId), 20_000, `${workflowId} idle`);
    return result;
  });
}

async function terminateWorkflows(h: ConversationHarness): Promise<void> {
  for (const workflowId of await startedWorkflowIds(h)) {
    const handle = h.env.client.workflow.getHandle(workflowId);
    try {
      if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test over');
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
}

async function rows<T = Json>(h: ConversationHarness, table: string): Promise<T[]> {
  return (await h.db(table).select()) as T[];
}

/** A fixture whose messages carry the harness's current time, so the 24 h window is open and auto-replies go out. */
async function liveFixture(h: ConversationHarness, name: string): Promise<Json> {
  const body = loadWebhookFixture(name) as Json;
  const now = String(Math.floor((await h.now()) / 1000));
  for (const entry of body.entry as Json[]) {
    for (const change of entry.changes as Json[]) {
      for (const message of ((change.value as Json).messages as Json[] | undefined) ?? []) message.timestamp = now;
    }
  }
  return body;
}

function statusWebhook(wamid: string, status: string, extra: Json = {}, timestamp = 1750004000): Json {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001111', phone_number_id: PHONE_NUMBER_ID },
              statuses: [
                {
                  id: wamid,
                  status,
                  timestamp: String(timestamp),
                  recipient_id: '5511999990000',
                  recipient_user_id: 'BR.1480625993027561234',
                  ...extra,
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

const FAILED_131047 = {
  errors: [
    {
      code: 131047,
      title: 'Re-engagement message',
      message: 'Re-engagement message',
      error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
    },
  ],
};

describe('webhook intake: what every webhook stores (time-skipping server, real PostgreSQL)', function () {
  this.timeout(120_000);
  const harnesses: ConversationHarness[] = [];
  let current: ConversationHarness | null = null;
  async function freshHarness(): Promise<ConversationHarness> {
    const h = await createConversationHarness();
    harnesses.push(h);
    current = h;
    return h;
  }
  afterEach(async () => {
    if (current) {
      await terminateWorkflows(current);
      // Dozens of harnesses: give their connections back rather than hold them to the end of the suite.
      await current.db.destroy();
    }
    current = null;
  });
  after(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
  });

  it('has an expectation for every fixture of the corpus', () => {
    assert.deepEqual(Object.keys(EXPECTATIONS).sort(), webhookFixtureNames());
  });

  for (const name of webhookFixtureNames()) {
    it(`${name}: stores exactly what the webhook carried`, async () => {
      const expected = EXPECTATIONS[name];
      assert.ok(expected, `no expectation written for fixture ${name}`);
      const h = await freshHarness();
      const body = loadWebhookFixture(name) as Json;

      await runSettled(h, async () => {
        await h.intake.accept(parseWebhookPayload(body));

        // Messages: one inbound row each, content and identity as sent.
        const inbound = await h.db('messages').where({ direction: 'inbound' }).select();
        assert.equal(inbound.length, expected.inbound.length, 'inbound rows');
        const signalsExpected = new Map<string, number>();
        for (const exp of expected.inbound) {
          const message = messageAt(body, exp.at);
          const row = inbound.find((r) => r.wamid === message.id);
          assert.ok(row, `row for ${String(message.id)}`);
          assert.equal(row.phone_number_id, exp.phoneNumberId ?? PHONE_NUMBER_ID);
          assert.equal(row.author, 'customer');
          assert.equal(row.status, 'received');
          assert.equal(row.type, exp.type);
          assert.deepEqual(row.content, exp.content);
          assert.deepEqual(row.raw, message, 'the message object is kept as received');
          assert.equal(row.sent_at.getTime(), Number(message.timestamp) * 1000);
          assert.equal(row.first_contact, exp.firstContact);
          assert.notEqual(row.delivered_to_workflow_at, null, 'handed over (or recorded as needing no workflow)');
          const contact = await h.db('contacts').where({ id: row.contact_id }).first('identity_key', 'user_id', 'wa_id', 'profile_name');
          assert.deepEqual({ ...contact }, exp.contact);

          const conversationWf = conversationWorkflowId(row.phone_number_id, row.contact_id);
          if (exp.route === 'conversation') {
            signalsExpected.set(conversationWf, (signalsExpected.get(conversationWf) ?? 0) + 1);
            const attached = await eventually(
              () => h.db('messages').where({ id: row.id }).whereNotNull('conversation_id').first(),
              15_000,
              `${row.wamid} attached`,
            );
            const conversation = await h.db('conversations').where({ id: attached.conversation_id }).first();
            assert.equal(conversation.contact_id, row.contact_id);
            assert.equal(conversation.workflow_id, conversationWf);
          } else {
            assert.equal(row.conversation_id, null);
            assert.equal(await workflowExists(h, conversationWf), false, `${exp.type} opens no conversation`);
          }
          if (exp.route === 'welcome') {
            // R1 is off by default: the welcome workflow runs and sends nothing.
            await h.env.client.workflow.getHandle(welcomeWorkflowId(row.phone_number_id, row.contact_id)).result();
          }
        }
        for (const [workflowId, count] of signalsExpected) assert.equal(await signalsReceived(h, workflowId), count, `signals to ${workflowId}`);
        assert.equal(
          await h
            .db('conversations')
            .count<{ n: string }[]>('* as n')
            .then(([r]) => Number(r.n)),
          signalsExpected.size,
          'one conversation per signalled contact',
        );

        assert.equal((await rows(h, 'contacts')).length, expected.contacts, 'contacts');

        // Statuses: one event per (wamid, status); none of these wamids is ours, so no message changes.
        const statusRows = await rows<{ wamid: string; status: string; raw: Json }>(h, 'message_status_events');
        assert.deepEqual(statusRows.map((r) => [r.wamid, r.status]).sort(), [...(expected.statusEvents ?? [])].sort());

        // Everything else: webhook_other_events, raw kept.
        const others = await h.db('webhook_other_events').orderBy('id').select('field', 'reason', 'phone_number_id', 'raw');
        const expectedOthers = (expected.other ?? []).map((o) => ({
          field: o.field,
          reason: o.reason,
          phone_number_id: o.phoneNumberId,
          raw: o.raw(body),
        }));
        const sortKey = (o: { reason: string }) => o.reason;
        assert.deepEqual(
          others.map((o) => ({ ...o })).sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
          expectedOthers.sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
        );
        assert.equal(
          await h
            .db('csat_answers')
            .count<{ n: string }[]>('* as n')
            .then(([r]) => Number(r.n)),
          0,
        );
      });
    });
  }

  it('duplicates: redelivered and repeated in one POST, a message is stored once, signalled once and answered once', async () => {
    const h = await freshHarness();
    const body = await liveFixture(h, 'duplicates');
    const wamid = messageAt(body, [0, 0, 0]).id;
    await runSettled(h, async () => {
      await h.intake.accept(parseWebhookPayload(body));
      await h.intake.accept(parseWebhookPayload(body));
      const [reply] = await h.graph.waitForMessages(1);
      assert.equal(reply.body.type, 'text');
      await eventually(() => h.db('messages').where({ direction: 'outbound', status: 'accepted' }).first(), 10_000, 'auto-reply recorded');
      // A third delivery after the reply went out changes nothing either.
      await h.intake.accept(parseWebhookPayload(body));
      const inbound = await h.db('messages').where({ direction: 'inbound' }).select();
      assert.deepEqual(
        inbound.map((r) => r.wamid),
        [wamid],
      );
      const conversations = await h.db('conversations').select();
      assert.equal(conversations.length, 1);
      assert.equal(await signalsReceived(h, conversations[0].workflow_id), 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(h.graph.messageRequests().length, 1, 'one auto-reply at the Graph API');
    });
  });

  /** Lets the unassigned auto-reply go out and returns its wamid (wamid.FAKE…) and row. */
  async function outboundMessage(h: ConversationHarness, fixture: string): Promise<{ wamid: string; id: string }> {
    const before = h.graph.messageRequests().length;
    await h.intake.accept(parseWebhookPayload(await liveFixture(h, fixture)));
    await h.graph.waitForMessages(before + 1);
    const row = await eventually<{ wamid: string; id: string }>(
      () =>
        h
          .db('messages')
          .where({ direction: 'outbound', status: 'accepted', wamid: `wamid.FAKE${before + 1}` })
          .first('id', 'wamid'),
      10_000,
      'auto-reply accepted',
    );
    return row;
  }

  async function deliver(h: ConversationHarness, body: Json): Promise<void> {
    await h.intake.accept(parseWebhookPayload(body));
  }

  it('statuses merge monotonically: read, delivered, sent ends read; a later failed does not overwrite it; repeats are one event', async () => {
    const h = await freshHarness();
    await runSettled(h, async () => {
      const out = await outboundMessage(h, 'text');
      assert.match(out.wamid, /^wamid\.FAKE\d+$/);
      const status = async () => h.db('messages').where({ id: out.id }).first('status', 'status_at', 'error');

      await deliver(h, statusWebhook(out.wamid, 'read', {}, 1750004010));
      assert.equal((await status()).status, 'read');
      assert.equal((await status()).status_at.getTime(), 1750004010_000);
      await deliver(h, statusWebhook(out.wamid, 'delivered', {}, 1750004005));
      assert.equal((await status()).status, 'read', 'a late delivered never overwrites read');
      await deliver(h, statusWebhook(out.wamid, 'sent', {}, 1750004001));
      assert.equal((await status()).status, 'read', 'a late sent never overwrites read');
      assert.equal((await status()).status_at.getTime(), 1750004010_000);

      await deliver(h, statusWebhook(out.wamid, 'failed', FAILED_131047, 1750004020));
      const afterFailed = await status();
      assert.equal(afterFailed.status, 'read', 'failed after read does not overwrite');
      assert.equal(afterFailed.error, null);

      // Redelivered: still one event per (wamid, status).
      await deliver(h, statusWebhook(out.wamid, 'read', {}, 1750004010));
      await deliver(h, statusWebhook(out.wamid, 'delivered', {}, 1750004005));
      const events = await h.db('message_status_events').where({ wamid: out.wamid }).orderBy('at').select('status');
      assert.deepEqual(
        events.map((e) => e.status),
        ['sent', 'delivered', 'read', 'failed'],
      );
      assert.equal((await status()).status, 'read');
    });
  });

  it('statuses in one POST, in the order read, delivered, sent (and read twice), end read with one event each', async () => {
    const h = await freshHarness();
    await runSettled(h, async () => {
      const out = await outboundMessage(h, 'text');
      const body = statusWebhook(out.wamid, 'read', {}, 1750004010);
      const statuses = (valueAt(body).statuses as Json[])!;
      const template = statuses[0];
      statuses.push(
        { ...template, status: 'delivered', timestamp: '1750004005' },
        { ...template, status: 'sent', timestamp: '1750004001' },
        { ...template },
      );
      await deliver(h, body);
      assert.equal((await h.db('messages').where({ id: out.id }).first('status')).status, 'read');
      const events = await h.db('message_status_events').where({ wamid: out.wamid }).select('status');
      assert.deepEqual(events.map((e) => e.status).sort(), ['delivered', 'read', 'sent']);
    });
  });

  it('a failed status before delivery marks the message failed with the error, and nothing later revives it', async () => {
    const h = await freshHarness();
    await runSettled(h, async () => {
      const out = await outboundMessage(h, 'bsuid-no-phone');
      await deliver(h, statusWebhook(out.wamid, 'sent', {}, 1751142880));
      assert.equal((await h.db('messages').where({ id: out.id }).first('status')).status, 'sent');

      const failed = loadWebhookFixture('status-failed') as Json;
      (valueAt(failed).statuses as Json[])[0].id = out.wamid;
      await deliver(h, failed);
      const row = await h.db('messages').where({ id: out.id }).first('status', 'error', 'status_at');
      assert.equal(row.status, 'failed');
      assert.deepEqual(row.error, [
        {
          code: 131047,
          title: 'Re-engagement message',
          message: 'Re-engagement message',
          details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        },
      ]);
      assert.equal(row.status_at.getTime(), 1751142888_000);

      await deliver(h, statusWebhook(out.wamid, 'delivered', {}, 1751142890));
      assert.equal((await h.db('messages').where({ id: out.id }).first('status')).status, 'failed', 'failed is terminal before delivery');
      const events = await h.db('message_status_events').where({ wamid: out.wamid }).select('status');
      assert.deepEqual(events.map((e) => e.status).sort(), ['delivered', 'failed', 'sent']);
    });
  });

  it('a survey answer is recorded once against its conversation and opens nothing; a malformed conversation id is stored only', async () => {
    const h = await freshHarness();
    await runSettled(h, async () => {
      await h.intake.accept(parseWebhookPayload(await liveFixture(h, 'text')));
      const conversation = await eventually(() => h.db('conversations').first(), 10_000, 'conversation');

      const answer = await liveFixture(h, 'interactive-list-reply');
      const reply = messageAt(answer, [0, 0, 0]);
      ((reply.interactive as Json).list_reply as Json).id = `csat:${conversation.id}:4`;
      await h.intake.accept(parseWebhookPayload(answer));
      await h.intake.accept(parseWebhookPayload(answer));
      const recorded = await h.db('csat_answers').select();
      assert.equal(recorded.length, 1);
      assert.equal(recorded[0].conversation_id, conversation.id);
      assert.equal(recorded[0].score, 4);
      assert.equal(recorded[0].wamid, reply.id);
      const stored = await h
        .db('messages')
        .where({ wamid: reply.id as string })
        .first();
      assert.equal(stored.conversation_id, conversation.id);
      assert.equal(
        await h
          .db('conversations')
          .count<{ n: string }[]>('* as n')
          .then(([r]) => Number(r.n)),
        1,
        'no new conversation',
      );
      assert.equal(await signalsReceived(h, conversation.workflow_id), 1, 'the answer is not a customer message signal');

      // Matches the survey row pattern but is no uuid: PostgreSQL must never see it as one.
      const malformed = await liveFixture(h, 'interactive-list-reply');
      const odd = messageAt(malformed, [0, 0, 0]);
      odd.id = 'wamid.MALFORMED-CSAT';
      ((odd.interactive as Json).list_reply as Json).id = 'csat:------------------------------------:5';
      await h.intake.accept(parseWebhookPayload(malformed));
      const oddRow = await h.db('messages').where({ wamid: 'wamid.MALFORMED-CSAT' }).first();
      assert.equal(oddRow.conversation_id, null);
      assert.equal((await h.db('csat_answers').select()).length, 1);
    });
  });

  it('a contact first seen by phone keeps one row when the BSUID arrives', async () => {
    const h = await freshHarness();
    await runSettled(h, async () => {
      await h.intake.accept(parseWebhookPayload(loadWebhookFixture('image')));
      await h.intake.accept(parseWebhookPayload(loadWebhookFixture('text')));
      const contacts = await h.db('contacts').select('identity_key', 'user_id', 'wa_id', 'profile_name');
      assert.deepEqual(
        contacts.map((c) => ({ ...c })),
        [{ ...ANA_BY_PHONE, user_id: ANA.user_id }],
      );
      const messages = await h.db('messages').where({ direction: 'inbound' }).select('contact_id');
      assert.equal(new Set(messages.map((m) => m.contact_id)).size, 1);
    });
  });

  it('stores text PostgreSQL cannot hold as sent (NUL, lone surrogates, deep nesting) and turns unusable ids into other events', async () => {
    const h = await freshHarness();
    const body = loadWebhookFixture('text') as Json;
    const value = valueAt(body);
    const message = (value.messages as Json[])[0];
    (message.text as Json).body = 'nul\u0000 and lone \ud800 surrogate';
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    message.extension = deep;
    (value.contacts as Json[])[0].profile = { name: 'Ana\u0000' };
    const longId = { ...message, id: `wamid.${'x'.repeat(5000)}` };
    const controlId = { ...message, id: 'wamid.\u0000' };
    value.messages = [message, longId, controlId];
    value.statuses = [{ id: 'wamid.STATUS', status: 'x'.repeat(5000), timestamp: '1750004000' }];
    body.entry = [...(body.entry as Json[]), { id: '1', changes: [{ field: 'x\u0000y', value: { nested: deep } }] }];

    await runSettled(h, async () => {
      await h.intake.accept(parseWebhookPayload(body));
      const row = await h
        .db('messages')
        .where({ wamid: message.id as string })
        .first('content', 'raw', 'contact_id');
      assert.equal(row.content.body, 'nul\ufffd and lone \ufffd surrogate');
      let level: unknown = row.raw.extension;
      let depth = 0;
      while (Array.isArray(level)) {
        level = level[0];
        depth++;
      }
      assert.ok(depth >= 90 && depth <= 100, `kept ${depth} levels`);
      assert.match(String(level), /nested deeper than/);
      assert.equal((await h.db('contacts').where({ id: row.contact_id }).first('profile_name')).profile_name, 'Ana\ufffd');
      assert.equal((await h.db('messages').where({ direction: 'inbound' }).select()).length, 1);

      const others = await h.db('webhook_other_events').orderBy('id').select('field', 'reason');
      assert.deepEqual(others.map((o) => o.reason).sort(), [
        'field x\ufffdy is not processed',
        'message id is not a usable identifier',
        'message id is not a usable identifier',
      ]);
      assert.deepEqual(
        (await h.db('message_status_events').select('wamid', 'status')).map((r) => ({ ...r })),
        [{ wamid: 'wamid.STATUS', status: '' }],
      );
    });
  });
});
