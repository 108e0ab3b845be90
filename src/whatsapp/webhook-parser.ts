/**
 * Turns a WhatsApp Cloud API webhook POST body into a flat list of normalised events.
 *
 * The body comes from the outside world: Meta's shapes change often, fields appear and
 * disappear (phone numbers may be absent or "" since the 2026 BSUID rollout), and a batch
 * may carry up to 1000 updates. So this parser never throws: anything it cannot read
 * becomes an `OtherEvent` (stored and logged by the caller) instead of an exception that
 * would make Meta redeliver the whole batch for days.
 */
import type {
  ContactIdentity,
  DeliveryStatus,
  GraphErrorDetail,
  InboundContent,
  InboundMessageEvent,
  InboundMessageType,
  OtherEvent,
  StatusEvent,
  WebhookEvent,
} from './webhook-events';

type JsonObject = Record<string, unknown>;
type KnownMessageType = Exclude<InboundMessageType, 'unknown'>;
type MediaType = Extract<InboundContent, { kind: 'media' }>['mediaType'];

const WABA_OBJECT = 'whatsapp_business_account';
const MESSAGES_FIELD = 'messages';

/**
 * Ids become database keys (unique indexes hold at most ~2.7 kB), workflow ids (Temporal
 * allows 1000 bytes) and search attributes. Meta's are short: phone number ids are ~16
 * digits, wamids ~100 characters, BSUIDs at most 128 (256 in a Dec 2025 draft). An id far
 * beyond that, or one with control characters or broken UTF-16, is not one Meta sent; the
 * element it names is stored as an OtherEvent instead of failing the whole batch.
 */
const MAX_PHONE_NUMBER_ID_LENGTH = 64;
const MAX_MESSAGE_ID_LENGTH = 512;
const MAX_USER_ID_LENGTH = 256;
const MAX_STATUS_LENGTH = 64;

/** Per-`value` context shared by the messages and statuses in it. */
interface ValueContext {
  phoneNumberId: string | null;
  contacts: JsonObject[];
  valueErrors: GraphErrorDetail[];
  receivedAt: Date;
}

export function parseWebhookPayload(body: unknown, receivedAt: Date = new Date()): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  guarded(out, { phoneNumberId: null, field: '', raw: body }, () => parseEnvelope(body, receivedAt, out));
  return out;
}

// ---------------------------------------------------------------------------------------
// Envelope: entry[] × changes[] × value

function parseEnvelope(body: unknown, receivedAt: Date, out: WebhookEvent[]): void {
  const root = asObject(body);
  if (!root || own(root, 'object') !== WABA_OBJECT) {
    out.push(other(null, '', 'object is not whatsapp_business_account', body));
    return;
  }
  const entries = own(root, 'entry');
  if (!Array.isArray(entries)) {
    out.push(other(null, '', 'entry is not an array', body));
    return;
  }
  for (const entry of entries) {
    guarded(out, { phoneNumberId: null, field: '', raw: entry }, () => parseEntry(entry, receivedAt, out));
  }
}

function parseEntry(entry: unknown, receivedAt: Date, out: WebhookEvent[]): void {
  const changes = own(asObject(entry), 'changes');
  if (!Array.isArray(changes)) {
    out.push(other(null, '', asObject(entry) ? 'entry.changes is not an array' : 'entry is not an object', entry));
    return;
  }
  for (const change of changes) {
    guarded(out, { phoneNumberId: null, field: '', raw: change }, () => parseChange(change, receivedAt, out));
  }
}

function parseChange(change: unknown, receivedAt: Date, out: WebhookEvent[]): void {
  const obj = asObject(change);
  if (!obj) {
    out.push(other(null, '', 'change is not an object', change));
    return;
  }
  const field = stringAt(obj, 'field') ?? '';
  const value = asObject(own(obj, 'value'));
  const phoneNumberId = identifier(asObject(own(value, 'metadata')), 'phone_number_id', MAX_PHONE_NUMBER_ID_LENGTH);

  // Other subscriptions (account_update, template status, …) share this URL; the caller
  // stores them, nothing here acts on them.
  if (field !== MESSAGES_FIELD) {
    out.push(other(phoneNumberId, field, field ? `field ${field} is not processed` : 'change without field', change));
    return;
  }
  if (!value) {
    out.push(other(null, field, 'change.value is not an object', change));
    return;
  }
  parseMessagesValue(value, phoneNumberId, receivedAt, out);
}

function parseMessagesValue(value: JsonObject, phoneNumberId: string | null, receivedAt: Date, out: WebhookEvent[]): void {
  const messages = own(value, 'messages');
  const statuses = own(value, 'statuses');
  const errors = own(value, 'errors');
  if (messages === undefined && statuses === undefined && errors === undefined) {
    out.push(other(phoneNumberId, MESSAGES_FIELD, 'value has no messages, statuses or errors', value));
    return;
  }
  const ctx: ValueContext = {
    phoneNumberId,
    contacts: objectsIn(own(value, 'contacts')),
    valueErrors: mapErrors(errors),
    receivedAt,
  };
  // Meta calls these distinct payloads, but nothing stops one value carrying several.
  forEachElement(out, ctx, 'messages', messages, (m) => parseMessage(m, ctx));
  forEachElement(out, ctx, 'statuses', statuses, (s) => parseStatus(s, ctx));
  forEachElement(out, ctx, 'errors', errors, (e) => valueErrorEvent(e, ctx));
}

function forEachElement(out: WebhookEvent[], ctx: ValueContext, name: string, list: unknown, parse: (item: unknown) => WebhookEvent): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    out.push(other(ctx.phoneNumberId, MESSAGES_FIELD, `${name} is not an array`, list));
    return;
  }
  for (const item of list) {
    guarded(out, { phoneNumberId: ctx.phoneNumberId, field: MESSAGES_FIELD, raw: item }, () => out.push(parse(item)));
  }
}

function valueErrorEvent(error: unknown, ctx: ValueContext): OtherEvent {
  const code = mapError(error)?.code ?? null;
  return other(ctx.phoneNumberId, MESSAGES_FIELD, `value error ${code ?? 'without code'}`, error);
}

// ---------------------------------------------------------------------------------------
// Messages

const KNOWN_MESSAGE_TYPES: ReadonlySet<string> = new Set<KnownMessageType>([
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'unsupported',
  'request_welcome',
  'edit',
  'revoke',
]);

/** Types that are the customer actually writing to us, so they (re)open the 24 h window (R11). */
const WINDOW_OPENING_TYPES: ReadonlySet<InboundMessageType> = new Set<InboundMessageType>([
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'order',
]);

function parseMessage(item: unknown, ctx: ValueContext): WebhookEvent {
  const msg = asObject(item);
  if (!msg) return other(ctx.phoneNumberId, MESSAGES_FIELD, 'message is not an object', item);
  if (!ctx.phoneNumberId) return other(null, MESSAGES_FIELD, 'message without metadata.phone_number_id', msg);

  const wamid = identifier(msg, 'id', MAX_MESSAGE_ID_LENGTH);
  if (!wamid)
    return other(ctx.phoneNumberId, MESSAGES_FIELD, nonEmpty(msg, 'id') ? 'message id is not a usable identifier' : 'message without id', msg);
  const contact = resolveContact(msg, ctx.contacts);
  if (!contact) return other(ctx.phoneNumberId, MESSAGES_FIELD, 'message without sender identity (from_user_id, from, contacts)', msg);

  const rawType = stringAt(msg, 'type') ?? '';
  const type: InboundMessageType = KNOWN_MESSAGE_TYPES.has(rawType) ? (rawType as KnownMessageType) : 'unknown';
  const event: InboundMessageEvent = {
    kind: 'message',
    phoneNumberId: ctx.phoneNumberId,
    wamid,
    sentAt: parseTimestamp(own(msg, 'timestamp'), ctx.receivedAt),
    type,
    rawType,
    contact,
    content: type === 'unknown' ? otherContent(rawType) : CONTENT_READERS[type](msg),
    contextMessageId: nonEmpty(asObject(own(msg, 'context')), 'id'),
    referral: asObject(own(msg, 'referral')),
    errors: messageErrors(msg, type, ctx),
    opensServiceWindow: WINDOW_OPENING_TYPES.has(type),
    raw: msg,
  };
  return event;
}

function messageErrors(msg: JsonObject, type: InboundMessageType, ctx: ValueContext): GraphErrorDetail[] {
  const errors = mapErrors(own(msg, 'errors'));
  // Meta sometimes sends an interactive message without its `interactive` object and puts
  // the explanation (131000) at value level; attach it so the message is self-explanatory.
  if (type === 'interactive' && !asObject(own(msg, 'interactive'))) return [...errors, ...ctx.valueErrors];
  return errors;
}

/**
 * Identity: BSUID first (stable, and the phone may be missing), phone as a fallback.
 * The contacts[] entry is matched to the message so a batch with several senders does not
 * mix up names and ids.
 */
function resolveContact(msg: JsonObject, contacts: JsonObject[]): ContactIdentity | null {
  const fromUserId = identifier(msg, 'from_user_id', MAX_USER_ID_LENGTH);
  const from = identifier(msg, 'from', MAX_USER_ID_LENGTH);
  const contact = matchContact(contacts, fromUserId, from);
  const userId = fromUserId ?? identifier(contact, 'user_id', MAX_USER_ID_LENGTH);
  const waId = from ?? identifier(contact, 'wa_id', MAX_USER_ID_LENGTH);
  const key = userId ?? waId;
  if (!key) return null;
  return { key, userId, waId, profileName: nonEmpty(asObject(own(contact, 'profile')), 'name') };
}

function matchContact(contacts: JsonObject[], userId: string | null, waId: string | null): JsonObject | null {
  const byUserId = userId ? contacts.find((c) => nonEmpty(c, 'user_id') === userId) : undefined;
  const byWaId = waId ? contacts.find((c) => nonEmpty(c, 'wa_id') === waId) : undefined;
  const match = byUserId ?? byWaId;
  if (match) return match;
  const only = contacts.length === 1 ? contacts[0] : undefined;
  // The lone contact is only trusted when it does not name someone else.
  if (only && !contradicts(nonEmpty(only, 'user_id'), userId) && !contradicts(nonEmpty(only, 'wa_id'), waId)) return only;
  return null;
}

function contradicts(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a !== b;
}

// ---------------------------------------------------------------------------------------
// Message content

const CONTENT_READERS: Record<KnownMessageType, (msg: JsonObject) => InboundContent> = {
  text: (msg) =>
    withMember(msg, 'text', (text) => {
      const body = stringAt(text, 'body');
      return body === null ? otherContent('text') : { kind: 'text', body };
    }),
  image: mediaReader('image'),
  video: mediaReader('video'),
  audio: mediaReader('audio'),
  document: mediaReader('document'),
  sticker: mediaReader('sticker'),
  location: (msg) =>
    withMember(msg, 'location', (loc) => ({
      kind: 'location',
      latitude: finiteNumber(own(loc, 'latitude')),
      longitude: finiteNumber(own(loc, 'longitude')),
      name: nonEmpty(loc, 'name'),
      address: nonEmpty(loc, 'address'),
    })),
  contacts: (msg) => {
    const cards = own(msg, 'contacts');
    if (!Array.isArray(cards)) return otherContent('contacts');
    const names = objectsIn(cards)
      .map((card) => nonEmpty(asObject(own(card, 'name')), 'formatted_name'))
      .filter((name): name is string => name !== null);
    return { kind: 'contacts', names };
  },
  interactive: readInteractive,
  button: (msg) =>
    withMember(msg, 'button', (button) => {
      const payload = stringAt(button, 'payload');
      const text = stringAt(button, 'text');
      // Meta's docs show the label in both fields; whichever is present stands in for the other.
      return { kind: 'template_button', payload: payload ?? text ?? '', text: text ?? payload ?? '' };
    }),
  reaction: (msg) =>
    withMember(msg, 'reaction', (reaction) => ({
      kind: 'reaction',
      messageId: stringAt(reaction, 'message_id') ?? '',
      // Removing a reaction omits the emoji (Meta) or sends "" (seen by pywa).
      emoji: nonEmpty(reaction, 'emoji'),
    })),
  order: () => otherContent('order'),
  system: (msg) =>
    withMember(msg, 'system', (system) => ({
      kind: 'system',
      systemType: nonEmpty(system, 'type'),
      body: nonEmpty(system, 'body'),
    })),
  // `unsupported.type` is sometimes absent; the errors[] still say what happened.
  unsupported: (msg) => ({ kind: 'unsupported', unsupportedType: nonEmpty(asObject(own(msg, 'unsupported')), 'type') }),
  request_welcome: () => ({ kind: 'request_welcome' }),
  edit: () => otherContent('edit'),
  revoke: () => otherContent('revoke'),
};

function mediaReader(mediaType: MediaType): (msg: JsonObject) => InboundContent {
  return (msg) =>
    withMember(msg, mediaType, (media) => ({
      kind: 'media',
      mediaType,
      mediaId: nonEmpty(media, 'id'),
      mimeType: nonEmpty(media, 'mime_type'),
      caption: nonEmpty(media, 'caption'),
      filename: nonEmpty(media, 'filename'),
      ...(mediaType === 'audio' ? { voice: own(media, 'voice') === true } : {}),
      ...(mediaType === 'sticker' ? { animated: own(media, 'animated') === true } : {}),
    }));
}

function readInteractive(msg: JsonObject): InboundContent {
  const interactive = asObject(own(msg, 'interactive'));
  if (!interactive) return otherContent('interactive');
  const subtype = nonEmpty(interactive, 'type') ?? 'unknown';
  const reply = asObject(own(interactive, subtype));
  if (subtype === 'button_reply' && reply) {
    return { kind: 'button_reply', id: stringAt(reply, 'id') ?? '', title: stringAt(reply, 'title') ?? '' };
  }
  if (subtype === 'list_reply' && reply) {
    return {
      kind: 'list_reply',
      id: stringAt(reply, 'id') ?? '',
      title: stringAt(reply, 'title') ?? '',
      description: nonEmpty(reply, 'description'),
    };
  }
  // nfm_reply (Flows), call_permission_reply, and whatever Meta adds next.
  return otherContent(`interactive:${subtype}`);
}

/** Reads the member object named after the type; without it there is no content to summarise. */
function withMember(msg: JsonObject, name: string, read: (member: JsonObject) => InboundContent): InboundContent {
  const member = asObject(own(msg, name));
  return member ? read(member) : otherContent(name);
}

function otherContent(type: string): InboundContent {
  return { kind: 'other', type };
}

// ---------------------------------------------------------------------------------------
// Statuses

const DELIVERY_STATUSES: ReadonlySet<string> = new Set<DeliveryStatus>(['sent', 'delivered', 'read', 'played', 'failed']);

function parseStatus(item: unknown, ctx: ValueContext): WebhookEvent {
  const status = asObject(item);
  if (!status) return other(ctx.phoneNumberId, MESSAGES_FIELD, 'status is not an object', item);
  if (!ctx.phoneNumberId) return other(null, MESSAGES_FIELD, 'status without metadata.phone_number_id', status);
  const wamid = identifier(status, 'id', MAX_MESSAGE_ID_LENGTH);
  if (!wamid)
    return other(ctx.phoneNumberId, MESSAGES_FIELD, nonEmpty(status, 'id') ? 'status id is not a usable identifier' : 'status without id', status);

  // Part of the (wamid, status) deduplication key: an absurd value is kept only in `raw`.
  const rawStatus = identifier(status, 'status', MAX_STATUS_LENGTH) ?? '';
  const event: StatusEvent = {
    kind: 'status',
    phoneNumberId: ctx.phoneNumberId,
    wamid,
    status: DELIVERY_STATUSES.has(rawStatus) ? (rawStatus as DeliveryStatus) : 'unknown',
    rawStatus,
    at: parseTimestamp(own(status, 'timestamp'), ctx.receivedAt),
    recipient: { userId: identifier(status, 'recipient_user_id', MAX_USER_ID_LENGTH), waId: identifier(status, 'recipient_id', MAX_USER_ID_LENGTH) },
    errors: mapErrors(own(status, 'errors')),
    raw: status,
  };
  return event;
}

// ---------------------------------------------------------------------------------------
// Shared readers

function mapErrors(list: unknown): GraphErrorDetail[] {
  if (!Array.isArray(list)) return [];
  return list.map(mapError).filter((e): e is GraphErrorDetail => e !== null);
}

function mapError(error: unknown): GraphErrorDetail | null {
  const obj = asObject(error);
  if (!obj) return null;
  return {
    code: errorCode(own(obj, 'code')),
    title: nonEmpty(obj, 'title'),
    message: nonEmpty(obj, 'message'),
    details: nonEmpty(asObject(own(obj, 'error_data')), 'details'),
  };
}

function errorCode(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) ? value : null;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return null;
}

/** Meta sends Unix seconds as a string; a missing or unreadable one falls back to the receive time. */
function parseTimestamp(value: unknown, receivedAt: Date): Date {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  const at = Number.isFinite(seconds) && seconds >= 0 ? new Date(seconds * 1000) : new Date(Number.NaN);
  return Number.isNaN(at.getTime()) ? new Date(receivedAt.getTime()) : at;
}

function other(phoneNumberId: string | null, field: string, reason: string, raw: unknown): OtherEvent {
  return { kind: 'other', phoneNumberId, field, reason, raw };
}

/**
 * Last line of defence: the readers above are written not to throw, but if one ever does,
 * the damage is one OtherEvent for that element rather than a failed batch.
 */
function guarded(out: WebhookEvent[], fallback: { phoneNumberId: string | null; field: string; raw: unknown }, parse: () => void): void {
  try {
    parse();
  } catch (err) {
    const detail = err instanceof Error ? err.message : typeof err;
    out.push(other(fallback.phoneNumberId, fallback.field, `internal parser error: ${detail}`, fallback.raw));
  }
}

function asObject(value: unknown): JsonObject | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;
}

/** Own properties only, so keys like "constructor" or "__proto__" never reach Object.prototype. */
function own(obj: JsonObject | null, key: string): unknown {
  return obj !== null && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function stringAt(obj: JsonObject | null, key: string): string | null {
  const value = own(obj, key);
  return typeof value === 'string' ? value : null;
}

/** Meta sends "" for fields it withholds (phone numbers under BSUID); treat it as absent. */
function nonEmpty(obj: JsonObject | null, key: string): string | null {
  const value = stringAt(obj, key);
  return value ? value : null;
}

/** A non-empty string usable as a key: bounded, no control characters, well-formed UTF-16. */
function identifier(obj: JsonObject | null, key: string, maxLength: number): string | null {
  const value = nonEmpty(obj, key);
  if (value === null || value.length > maxLength) return null;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  return /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value) ? null : value;
}

function finiteNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function objectsIn(list: unknown): JsonObject[] {
  return Array.isArray(list) ? list.map(asObject).filter((o): o is JsonObject => o !== null) : [];
}
