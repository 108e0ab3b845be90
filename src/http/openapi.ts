/**
 * The OpenAPI 3.1 description of the HTTP API (SPEC §6), served at GET /api/openapi.json.
 *
 * Request schemas (path and query parameters, bodies) are generated from the very zod
 * schemas the routers validate with, so the document cannot promise a field the server
 * rejects or miss one it requires. Responses are shaped by hand in the routers, so their
 * schemas are written here, in zod too. test/unit/openapi.test.ts fails when the
 * documented operations and the routes the app registers differ, when a path template
 * and its parameters disagree, or when a conversation, message or settings response
 * gains or loses a field.
 */
import { z } from 'zod';
import { version } from '../../package.json';
import { automationSettingsInputSchema } from '../automation/settings-schema';
import { messageContentSchema, replyContentSchema, templateMessageSchema } from '../whatsapp/message-content';
import { agentBody as agentInput, agentIdParam, agentStatusBody } from './agents-router';
import { apiKeyBody, apiKeyIdParam, loginParam, sessionBody, userBody } from './people-router';
import { phoneNumberIdParam } from './automation-router';
import {
  agentBody as agentIdBody,
  botReplyBody,
  closeBody,
  emptyBody,
  idParam as conversationIdParam,
  replyBody,
} from './conversation-actions-router';
import { idParam as contactIdParam, listQuery as conversationListQuery } from './conversations-router';
import { csatQuery } from './reports-router';
import { deliveryLogQuery, subscriptionBody, subscriptionIdParam } from './webhooks-router';
import { OUTBOUND_EVENT_TYPES } from '../../workflows/rules/vocabulary';

// ---------------------------------------------------------------------------
// Document types (only as much of OpenAPI 3.1 as this document uses)
// ---------------------------------------------------------------------------

export type JsonSchema = { [keyword: string]: unknown };
export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  content?: Record<string, { schema: JsonSchema; example?: unknown }>;
}

export type RefObject = { $ref: string };

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  /** `[]` marks an operation that needs no API key; otherwise the document-level bearer scheme applies. */
  security?: [];
  parameters?: ParameterObject[];
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, ResponseObject | RefObject>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  security: Array<Record<string, string[]>>;
  paths: Record<string, Partial<Record<HttpMethod, OperationObject>>>;
  components: {
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
  };
}

// ---------------------------------------------------------------------------
// Named schemas: everything under components.schemas is registered here
// ---------------------------------------------------------------------------

const components = z.registry<{ id: string }>();
/** Descriptions of components whose zod schema (owned elsewhere) has none. */
const componentDescriptions = new Map<string, string>();

function component<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  components.add(schema, { id });
  if (description) componentDescriptions.set(id, description);
  return schema;
}

// Request bodies: the routers' own schemas.
component(
  'MessageContent',
  messageContentSchema,
  'A Cloud API message object without `messaging_product` and `to` (SPEC §4). Some limits are checked by the server but not expressed here: ' +
    'text lengths (in UTF-16 units), https-only links, exactly one of `id`/`link` for media, unique button and row ids, at most 10 list rows. ' +
    'A violation is a 400 whose details name the field.',
);
component(
  'TemplateMessage',
  templateMessageSchema,
  'An approved WhatsApp template by name and language (SPEC §4, R16): the only kind of message an agent may send outside the 24-hour window. ' +
    "Body parameters are at most 1024 characters each. Meta refuses unknown or unapproved templates (errors 132000–132016), recorded as the message's final failure.",
);
component('ReplyContent', replyContentSchema, 'What an agent or a bot may send: any MessageContent, or a TemplateMessage.');
component('AutomationSettingsInput', automationSettingsInputSchema, 'Every block and field is optional; omitted ones take their defaults.');
component('AgentInput', agentInput);
component('AgentIdRequest', agentIdBody);
component('AgentReplyRequest', replyBody);
component('CloseRequest', closeBody);
component('BotReplyRequest', botReplyBody);
component('EmptyRequest', emptyBody);
component('AgentStatusRequest', agentStatusBody);
component('SessionRequest', sessionBody);
component('UserInput', userBody);
component('ApiKeyInput', apiKeyBody);

// Responses.
const uuid = z.string().meta({ format: 'uuid' });
const timestamp = z.string().meta({ format: 'date-time' });
const conversationStatus = conversationListQuery.shape.status.unwrap();

/** What GET …/automation and PUT …/automation return: the input schema with every block and field filled in. */
const automationSettings = component(
  'AutomationSettings',
  z.strictObject(
    Object.fromEntries(
      Object.entries(automationSettingsInputSchema.shape).map(([name, block]) => [name, (block as z.ZodOptional<z.ZodObject>).unwrap().required()]),
    ),
  ),
);

const agent = component(
  'Agent',
  z.object({
    id: z.string(),
    name: z.string(),
    receptionLimit: z.int().min(1).max(100),
    status: agentInput.shape.status,
    phoneNumberIds: z.array(z.string()).nullable().describe('null: the agent serves every number'),
    load: z.int().min(0).describe('conversations assigned to the agent now'),
    queued: z.int().min(0).describe('people waiting in the queues of the numbers the agent serves'),
  }),
);
const agentList = component('AgentList', z.object({ agents: z.array(agent) }));

const conversation = component(
  'Conversation',
  z.object({
    id: uuid,
    phoneNumberId: z.string(),
    contactId: uuid,
    status: conversationStatus,
    agentId: z.string().nullable(),
    closeReason: z.string().nullable().describe('agent, admin, auto_close, bot_completed or bot_timeout once closed'),
    openedAt: timestamp,
    queuedAt: timestamp.nullable(),
    assignedAt: timestamp.nullable(),
    closedAt: timestamp.nullable(),
    lastCustomerMessageAt: timestamp.nullable(),
    workflowId: z.string(),
    contact: z
      .object({
        id: uuid,
        name: z.string().nullable().describe('WhatsApp profile name'),
        waId: z.string().nullable().describe('phone number'),
        userId: z.string().nullable().describe('business-scoped user id'),
      })
      .nullable(),
  }),
);
const conversationList = component(
  'ConversationList',
  z.object({
    conversations: z.array(conversation),
    nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last'),
  }),
);
const timelineEntry = component(
  'TimelineEntry',
  z
    .object({
      at: timestamp,
      kind: z
        .string()
        .describe(
          'opened, message_received, routed, transferred, automated_message_sent/skipped/failed, reply_sent, closed, survey_answered, action',
        ),
      actor: z.record(z.string(), z.unknown()).describe('{"type":"automation"}, {"type":"user","login","role"} or {"type":"key","id","name","role"}'),
    })
    .catchall(z.unknown())
    .describe('routed entries carry `reason`: last_agent, least_loaded, queued, queue_drain, no_agent_online, manual, bot, claimed, transferred'),
);
const user = component(
  'User',
  z.object({
    login: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'agent']),
    agentId: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
const userList = component('UserList', z.object({ users: z.array(user) }));
const principalSchema = component(
  'Principal',
  z.object({ kind: z.enum(['user', 'key']), user: user.optional(), key: z.record(z.string(), z.unknown()).optional() }),
);
const apiKey = component(
  'ApiKey',
  z.object({
    id: uuid,
    name: z.string(),
    role: z.enum(['admin', 'bot']),
    phoneNumberIds: z.array(z.string()).nullable(),
    prefix: z.string(),
    createdAt: timestamp,
  }),
);
const createdApiKey = component('CreatedApiKey', z.intersection(apiKey, z.object({ key: z.string().describe('shown this once; stored hashed') })));
const apiKeyList = component('ApiKeyList', z.object({ apiKeys: z.array(apiKey) }));
const webhookInput = component(
  'WebhookInput',
  subscriptionBody(false),
  'url: https, or http to loopback (any host with ALLOW_HTTP_WEBHOOKS); secret signs each delivery and is never returned; phoneNumberIds omitted: every number',
);
const webhook = component(
  'Webhook',
  z.object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(OUTBOUND_EVENT_TYPES)),
    phoneNumberIds: z.array(z.string()).nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().describe('why it was turned off, e.g. the subscriber answered 410'),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
const webhookList = component('WebhookList', z.object({ webhooks: z.array(webhook) }));
const deliveryLog = component(
  'DeliveryLog',
  z.object({
    deliveries: z.array(
      z.object({
        id: z.string(),
        eventId: z.string(),
        type: z.enum(OUTBOUND_EVENT_TYPES),
        attempt: z.number().int().describe('1 for the first try of this event'),
        status: z.number().int().nullable().describe("the subscriber's HTTP status, null when it gave none (see error)"),
        error: z.string().nullable(),
        latencyMs: z.number().int(),
        outcome: z
          .enum(['delivered', 'retry', 'failed', 'gone'])
          .describe('failed: 24 hours of retries ended; gone: a 410 disabled the subscription'),
        at: timestamp,
      }),
    ),
    nextCursor: z.string().nullable().describe('pass as `before` for older attempts'),
  }),
  'every attempt, newest first',
);

const message = component(
  'Message',
  z.object({
    id: uuid,
    direction: z.enum(['inbound', 'outbound']),
    author: z.enum(['customer', 'automation', 'agent', 'bot']),
    agentId: z.string().nullable(),
    automation: z.string().nullable().describe('the rule that sent it (welcome, unassigned_reply, …); null for people and bots'),
    type: z.string(),
    content: z.record(z.string(), z.unknown()).describe('outbound: a MessageContent; inbound: the content Meta delivered'),
    status: z
      .string()
      .describe('inbound: received; outbound: the send outcome, then the latest delivery status (sent, delivered, read, failed, skipped, …)'),
    error: z.record(z.string(), z.unknown()).nullable(),
    skipReason: z.string().nullable().describe('why an automation was not sent'),
    wamid: z.string().nullable(),
    sentAt: timestamp,
    statusAt: timestamp.nullable(),
  }),
);
const conversationDetail = component(
  'ConversationDetail',
  z.intersection(
    conversation,
    z.object({
      messages: z.array(message).describe('in and out, oldest first'),
      timers: z
        .array(z.object({ rule: z.string(), dueAt: timestamp }))
        .nullable()
        .describe('the deadlines armed now, soonest first; null when the workflow did not answer in time'),
      timeline: z.array(timelineEntry).describe('every decision, oldest first'),
      businessHours: z
        .object({
          timezone: z.string(),
          open: z.boolean(),
          nextOpeningAt: timestamp.nullable().describe('null when open, or when the hours never open'),
        })
        .nullable()
        .describe("R14: the number's business hours now; null when they are off"),
    }),
  ),
);
const contactDetail = component(
  'ContactDetail',
  z.object({
    id: uuid,
    phoneNumberId: z.string(),
    name: z.string().nullable(),
    waId: z.string().nullable(),
    userId: z.string().nullable(),
    firstSeenAt: timestamp,
    conversations: z.array(conversation).describe('newest first'),
  }),
);
const eventStream = component('EventStream', z.string().describe('text/event-stream: `id`, `event` (the type) and `data` (JSON) per change'));

const queue = component(
  'Queue',
  z.object({
    phoneNumberId: z.string(),
    length: z.int().min(0),
    conversations: z.array(z.intersection(z.object({ position: z.int().min(1) }), conversation)).describe('in queue order'),
  }),
);

const csatReport = component(
  'CsatReport',
  z.object({
    count: z.int().min(0),
    average: z.number().nullable().describe('rounded to 2 decimals; null without answers'),
    answers: z
      .array(z.object({ conversationId: uuid, phoneNumberId: z.string(), agentId: z.string().nullable(), score: z.int(), answeredAt: timestamp }))
      .describe('newest first'),
  }),
);

const assigned = component('AssignedResult', z.object({ id: uuid, status: z.literal('assigned'), agentId: z.string() }));
const closed = component('ClosedResult', z.object({ id: uuid, status: z.literal('closed') }));
const handedOver = component('HandoverResult', z.object({ id: uuid, status: z.string().describe('the conversation status after the handover') }));
const sent = component(
  'SentMessage',
  z.object({
    id: uuid.nullable().describe('the message row'),
    status: z.string().optional().describe('recorded, accepted, skipped, failed or duplicate'),
  }),
);

const health = component(
  'Health',
  z.object({
    status: z.enum(['ok', 'degraded']).describe('degraded when PostgreSQL or Temporal is down or the WhatsApp token is rejected'),
    postgres: z.enum(['up', 'down']),
    temporal: z.enum(['up', 'down']),
    whatsappToken: z.string().describe('ok, rejected, or sandbox (no token configured: messages are recorded, not sent)'),
  }),
);
const webhookPayload = component(
  'WebhookPayload',
  z
    .record(z.string(), z.unknown())
    .describe('A Meta webhook notification ({"object":"whatsapp_business_account","entry":[…]}), read raw so its signature can be checked'),
);
const webhookAck = component('WebhookAck', z.object({ ok: z.literal(true) }));
const anyDocument = component('OpenApiDocument', z.record(z.string(), z.unknown()).describe('this document'));

const errorSchema = component(
  'Error',
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).describe('one entry per bad field; empty when no field is to blame'),
    }),
  }),
);

// ---------------------------------------------------------------------------
// Conversion helpers
// ---------------------------------------------------------------------------

const SCHEMA_PREFIX = '#/components/schemas/';

/** Drops the ±2^53 bounds zod gives every integer: true, but noise to a reader. */
function withoutSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}

function generateComponentSchemas(): Record<string, JsonSchema> {
  // `io: 'input'`: document what callers may send (fields with defaults are optional).
  const { schemas } = z.toJSONSchema(components, {
    uri: (id) => `${SCHEMA_PREFIX}${id}`,
    io: 'input',
    override: withoutSafeIntegerBounds,
  });
  if ('__shared' in schemas) throw new Error('openapi: a schema was extracted to __shared; register it as a component');
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
      const description = componentDescriptions.get(id);
      return [id, description ? { description, ...rest } : rest];
    }),
  );
}

function ref(schema: z.ZodType): RefObject {
  const id = components.get(schema)?.id;
  if (!id) throw new Error('openapi: response and body schemas must be registered components');
  return { $ref: `${SCHEMA_PREFIX}${id}` };
}

function json(description: string, schema: z.ZodType): ResponseObject {
  return { description, content: { 'application/json': { schema: ref(schema) } } };
}

/** What each parameter means; their schemas come from the routers. */
const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  'path.phoneNumberId': 'Meta phone number id of the business number',
  'path.agentId': 'the agent id (chosen by the caller on PUT)',
  'path.id': 'the conversation id',
  'query.phoneNumberId': 'only this business number',
  'query.status': 'only conversations in this status (queued ones are then listed in queue order)',
  'query.agentId': 'only this agent',
  'query.limit': 'at most this many items (≤ 200)',
  'query.before': 'the nextCursor of the previous page',
  'path.webhookId': 'the subscription id (chosen by the caller on PUT)',
  'query.q': 'matches the contact name or phone number',
  'query.cursor': 'the nextCursor of the previous page',
  'path.login': 'the user login',
};

function parameters(schema: z.ZodObject | undefined, location: 'path' | 'query'): ParameterObject[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', override: withoutSafeIntegerBounds }) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, propertySchema]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    ...(PARAMETER_DESCRIPTIONS[`${location}.${name}`] ? { description: PARAMETER_DESCRIPTIONS[`${location}.${name}`] } : {}),
    schema: propertySchema,
  }));
}

// ---------------------------------------------------------------------------
// Shared error responses (SPEC §6 error shape)
// ---------------------------------------------------------------------------

function errorResponse(description: string, code: string, message: string, details: Array<{ field: string; message: string }> = []): ResponseObject {
  return { description, content: { 'application/json': { schema: ref(errorSchema), example: { error: { code, message, details } } } } };
}

const errorResponses = {
  BadRequest: errorResponse(
    'Invalid input (`invalid_request`): `details` names each bad field, body fields by their path (`message.text.body`), ' +
      'parameters as `path.<name>` or `query.<name>`. Unknown fields and parameters are rejected. A body that is not JSON is `invalid_json`.',
    'invalid_request',
    'invalid body',
    [{ field: 'receptionLimit', message: 'must be between 1 and 100' }],
  ),
  Unauthorized: errorResponse(
    'No valid API key (`Authorization: Bearer <key>`).',
    'unauthorized',
    'a valid API key is required: Authorization: Bearer <key>',
  ),
  Forbidden: errorResponse(
    'Authenticated, not allowed (SPEC §6.1), or a cookie-authenticated change from another origin (`cross_origin`).',
    'forbidden',
    'agents may not do this',
  ),
  NotFound: errorResponse('The conversation or agent does not exist.', 'not_found', 'conversation 6f1c… does not exist'),
  Conflict: errorResponse(
    'The conversation is not in a state that allows this (closed, no longer waiting, not the assignee…).',
    'conflict',
    'the conversation is closed',
  ),
  PayloadTooLarge: errorResponse(
    'The body is larger than the limit: 256 kB under /api, 3 MB for webhooks.',
    'payload_too_large',
    'the request body is too large',
  ),
  BadGateway: errorResponse('Meta rejected the ice breakers; nothing was saved.', 'meta_rejected', 'Meta rejected the ice breakers: …', [
    { field: 'iceBreakers.prompts', message: 'Graph error 100: …' },
  ]),
  TemporalUnavailable: errorResponse(
    'Temporal is unreachable (`temporal_unavailable`, with `Retry-After`), answered within about 2 s. ' +
      'The message says whether the action was not applied (Temporal did not answer) or may still take effect (the workflow did not confirm it within 10 s).',
    'temporal_unavailable',
    'Temporal is unreachable (no answer within 2000 ms); the action was not applied, try again shortly',
  ),
} satisfies Record<string, ResponseObject>;

type ErrorName = keyof typeof errorResponses;
const ERROR_STATUS: Record<ErrorName, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  BadGateway: 502,
  TemporalUnavailable: 503,
};

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

interface OperationSpec {
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** false: served without an API key. */
  auth?: false;
  path?: z.ZodObject;
  query?: z.ZodObject;
  /** Hand-written parameters, for routes that read them without a zod schema. */
  extraParameters?: ParameterObject[];
  body?: z.ZodType;
  /** Defaults to whether the body schema rejects {} (the API reads a missing body as {}). */
  bodyRequired?: boolean;
  /** Success responses, and any error response that differs from the shared ones. */
  responses: Record<number, ResponseObject>;
  /** Shared error responses beyond those implied: 400 (validated input), 401 (API key), 413 (body). */
  errors?: Array<'NotFound' | 'Conflict' | 'BadGateway' | 'TemporalUnavailable'>;
  /** No 403 (every authenticated principal may). */
  everyone?: true;
}

function operation(spec: OperationSpec): OperationObject {
  const params = [...parameters(spec.path, 'path'), ...parameters(spec.query, 'query'), ...(spec.extraParameters ?? [])];
  const implied: ErrorName[] = [];
  if (spec.path || spec.query || spec.body) implied.push('BadRequest');
  if (spec.auth !== false) implied.push('Unauthorized');
  if (spec.auth !== false && !spec.everyone) implied.push('Forbidden');
  if (spec.body) implied.push('PayloadTooLarge');

  const responses: Record<string, ResponseObject | RefObject> = {};
  for (const name of [...implied, ...(spec.errors ?? [])]) responses[ERROR_STATUS[name]] = { $ref: `#/components/responses/${name}` };
  for (const [status, response] of Object.entries(spec.responses)) responses[status] = response;
  const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));

  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.auth === false ? { security: [] as [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.bodyRequired ?? !spec.body.safeParse({}).success,
            content: { 'application/json': { schema: ref(spec.body) } },
          },
        }
      : {}),
    responses: sorted,
  };
}

const API: Record<string, Partial<Record<HttpMethod, OperationSpec>>> = {
  // --- Unauthenticated -------------------------------------------------------
  '/healthz': {
    get: {
      operationId: 'getHealth',
      tag: 'operations',
      summary: 'Whether PostgreSQL and Temporal are reachable, and the state of the WhatsApp token',
      description: 'A rejected WhatsApp token does not make the service unhealthy (webhooks are still accepted); it shows as `degraded` with a 200.',
      auth: false,
      responses: { 200: json('PostgreSQL and Temporal answer.', health), 503: json('PostgreSQL or Temporal does not answer.', health) },
    },
  },
  '/webhooks/whatsapp': {
    get: {
      operationId: 'verifyWebhook',
      tag: 'webhooks',
      summary: "Meta's webhook verification handshake (SPEC §5)",
      auth: false,
      extraParameters: [
        { name: 'hub.mode', in: 'query', required: true, schema: { type: 'string', const: 'subscribe' } },
        { name: 'hub.verify_token', in: 'query', required: true, description: 'must equal the configured verify token', schema: { type: 'string' } },
        { name: 'hub.challenge', in: 'query', required: true, description: 'echoed back', schema: { type: 'string' } },
      ],
      responses: {
        200: { description: 'The challenge, as sent.', content: { 'text/plain': { schema: { type: 'string' } } } },
        403: errorResponse('Wrong mode or verify token.', 'forbidden', 'verification failed'),
      },
    },
    post: {
      operationId: 'receiveWebhook',
      tag: 'webhooks',
      summary: 'Webhook notifications from Meta (messages, statuses), signed with the app secret',
      description: 'Authenticated by `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret), not by API key. Bodies up to 3 MB.',
      auth: false,
      extraParameters: [
        { name: 'X-Hub-Signature-256', in: 'header', required: true, description: '`sha256=<hex HMAC of the raw body>`', schema: { type: 'string' } },
      ],
      body: webhookPayload,
      bodyRequired: true,
      responses: {
        400: errorResponse('The body is not JSON.', 'invalid_json', 'the webhook body is not valid JSON'),
        200: json('Accepted (exactly 200: Meta redelivers on anything else).', webhookAck),
        401: errorResponse('No signature header.', 'invalid_signature', 'signature missing'),
        403: errorResponse('The signature does not match.', 'invalid_signature', 'signature mismatch'),
        503: errorResponse(
          'PostgreSQL is unreachable: nothing is acknowledged, so Meta redelivers (`Retry-After`).',
          'database_unavailable',
          'the database is unreachable; the request was not completed, try again shortly',
        ),
      },
    },
  },
  '/api/openapi.json': {
    get: {
      operationId: 'getOpenApiDocument',
      tag: 'operations',
      summary: 'This OpenAPI document',
      auth: false,
      responses: { 200: json('The OpenAPI 3.1 document.', anyDocument) },
    },
  },

  // --- Sessions, users, API keys (SPEC §6.1) ---------------------------------
  '/api/session': {
    post: {
      operationId: 'signIn',
      tag: 'access',
      summary: 'Sign in: sets an HttpOnly, SameSite=Lax session cookie and returns the user',
      description: 'Wrong login or password: 401 (no hint which). 5 failures for one login within 15 minutes: 429 with Retry-After.',
      auth: false,
      body: sessionBody,
      responses: {
        200: json('Signed in.', principalSchema),
        401: errorResponse('Wrong login or password.', 'unauthorized', 'wrong login or password'),
        403: errorResponse('Sent from another origin.', 'cross_origin', 'requests signed in by cookie must come from the same origin'),
        429: errorResponse(
          'Too many failures for this login; see Retry-After.',
          'throttled',
          'too many failed sign-ins for this login; try again later',
        ),
      },
    },
    get: {
      operationId: 'getSession',
      tag: 'access',
      summary: 'Who is signed in: the user, or the API key',
      everyone: true,
      responses: { 200: json('The current principal.', principalSchema) },
    },
    delete: {
      operationId: 'signOut',
      tag: 'access',
      summary: 'Sign out (ends the session)',
      everyone: true,
      responses: { 204: { description: 'Signed out.' } },
    },
  },
  '/api/users': {
    get: { operationId: 'listUsers', tag: 'access', summary: 'Every user (admin only)', responses: { 200: json('Users by login.', userList) } },
  },
  '/api/users/{login}': {
    put: {
      operationId: 'putUser',
      tag: 'access',
      summary: 'Create or update a user (admin only)',
      description:
        'A new user needs a password (at least 12 characters). An agent user acts as the agent record `agentId` (default: the login), created offline if missing.',
      path: loginParam,
      body: userBody,
      responses: { 200: json('Updated.', user), 201: json('Created.', user) },
    },
  },
  '/api/api-keys': {
    get: {
      operationId: 'listApiKeys',
      tag: 'access',
      summary: 'Every API key, without the keys (admin only)',
      responses: { 200: json('The keys.', apiKeyList) },
    },
    post: {
      operationId: 'createApiKey',
      tag: 'access',
      summary: 'Create an API key; the key is in this response only (admin only)',
      body: apiKeyBody,
      responses: { 201: json('Created.', createdApiKey) },
    },
  },
  '/api/api-keys/{id}': {
    delete: {
      operationId: 'deleteApiKey',
      tag: 'access',
      summary: 'Revoke an API key (admin only)',
      path: apiKeyIdParam,
      responses: { 204: { description: 'Revoked.' } },
      errors: ['NotFound'],
    },
  },
  '/api/webhooks': {
    get: {
      operationId: 'listWebhooks',
      tag: 'events',
      summary: 'Every outbound event subscription, without secrets (admin only)',
      responses: { 200: json('The subscriptions.', webhookList) },
    },
  },
  '/api/webhooks/{webhookId}': {
    put: {
      operationId: 'putWebhook',
      tag: 'events',
      summary: 'Create or replace an outbound event subscription (admin only)',
      description:
        'Each event is POSTed as `{"id","type","occurredAt","data"}` with `X-Autopilot-Event-Id`, `X-Autopilot-Timestamp` and ' +
        '`X-Autopilot-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`; at least once, in order per conversation, ' +
        'retried with exponential backoff for 24 hours; a 410 answer disables the subscription (PUT it again to re-enable).',
      path: subscriptionIdParam,
      body: webhookInput,
      responses: { 200: json('Replaced.', webhook), 201: json('Created.', webhook) },
    },
    get: {
      operationId: 'getWebhook',
      tag: 'events',
      summary: 'One subscription, without its secret (admin only)',
      path: subscriptionIdParam,
      responses: { 200: json('The subscription.', webhook) },
      errors: ['NotFound'],
    },
    delete: {
      operationId: 'deleteWebhook',
      tag: 'events',
      summary: 'Delete a subscription with its pending deliveries and log (admin only)',
      path: subscriptionIdParam,
      responses: { 204: { description: 'Deleted.' } },
      errors: ['NotFound'],
    },
  },
  '/api/webhooks/{webhookId}/deliveries': {
    get: {
      operationId: 'listWebhookDeliveries',
      tag: 'events',
      summary: 'The delivery log: every attempt, newest first (admin only)',
      path: subscriptionIdParam,
      query: deliveryLogQuery,
      responses: { 200: json('The attempts.', deliveryLog) },
      errors: ['NotFound'],
    },
  },
  '/api/contacts/{id}': {
    get: {
      operationId: 'getContact',
      tag: 'conversations',
      summary: 'A contact with their conversations',
      path: contactIdParam,
      responses: { 200: json('The contact.', contactDetail) },
      errors: ['NotFound'],
    },
  },
  '/api/events/stream': {
    get: {
      operationId: 'streamEvents',
      tag: 'conversations',
      summary: 'Live updates for the principal, as server-sent events',
      description:
        'Each change (message received/sent/status, conversation created/status/assigned/closed, queue changed) the principal may see, on every API replica. ' +
        'Resume with `Last-Event-ID`. A comment line every 15 s. A client too far behind is disconnected (and resumes).',
      everyone: true,
      extraParameters: [
        { name: 'Last-Event-ID', in: 'header', required: false, description: 'the last event id received', schema: { type: 'string' } },
      ],
      responses: { 200: { description: 'The stream.', content: { 'text/event-stream': { schema: ref(eventStream) } } } },
    },
  },

  // --- Automation settings ---------------------------------------------------
  '/api/numbers/{phoneNumberId}/automation': {
    get: {
      operationId: 'getAutomationSettings',
      tag: 'automation',
      summary: 'The automation settings of a number, with defaults filled in',
      path: phoneNumberIdParam,
      responses: { 200: json('The settings.', automationSettings) },
    },
    put: {
      operationId: 'putAutomationSettings',
      tag: 'automation',
      summary: 'Replace the automation settings of a number',
      description:
        'Every block and field is optional and takes its default. Changed ice breakers are pushed to Meta first (R2); open conversations re-arm their timers (R12).',
      path: phoneNumberIdParam,
      body: automationSettingsInputSchema,
      responses: { 200: json('The settings as saved, with defaults filled in.', automationSettings) },
      errors: ['BadGateway'],
    },
  },
  '/api/numbers/{phoneNumberId}/queue': {
    get: {
      operationId: 'getQueue',
      tag: 'reports',
      summary: 'The queue of a number, in order, with its length',
      path: phoneNumberIdParam,
      responses: { 200: json('The queue.', queue) },
    },
  },

  // --- Agents ----------------------------------------------------------------
  '/api/agents': {
    get: {
      operationId: 'listAgents',
      tag: 'agents',
      summary: 'Every agent with its load and queue',
      responses: { 200: json('Agents by id.', agentList) },
    },
  },
  '/api/agents/{agentId}': {
    get: {
      operationId: 'getAgent',
      tag: 'agents',
      summary: 'One agent with its load and queue',
      path: agentIdParam,
      responses: { 200: json('The agent.', agent) },
      errors: ['NotFound'],
    },
    put: {
      operationId: 'putAgent',
      tag: 'agents',
      summary: 'Create or update an agent',
      description: 'Without `phoneNumberIds` (or with null) the agent serves every number. Coming online drains the queue into the agent (R6).',
      path: agentIdParam,
      body: agentInput,
      responses: { 200: json('Updated.', agent), 201: json('Created.', agent) },
    },
  },

  '/api/agents/{agentId}/status': {
    put: {
      operationId: 'putAgentStatus',
      tag: 'agents',
      summary: 'Online or offline: the agent themself or an admin',
      path: agentIdParam,
      body: agentStatusBody,
      responses: { 200: json('The agent.', agent) },
      errors: ['NotFound'],
    },
  },

  // --- Conversations ---------------------------------------------------------
  '/api/conversations': {
    get: {
      operationId: 'listConversations',
      tag: 'conversations',
      summary: 'Conversations, newest first (queued ones in queue order)',
      query: conversationListQuery,
      responses: { 200: json('The conversations.', conversationList) },
    },
  },
  '/api/conversations/{id}': {
    get: {
      operationId: 'getConversation',
      tag: 'conversations',
      summary: 'One conversation with its messages, delivery statuses and skipped automations',
      path: conversationIdParam,
      responses: { 200: json('The conversation.', conversationDetail) },
      errors: ['NotFound'],
    },
  },
  '/api/conversations/{id}/claim': {
    post: {
      operationId: 'claimConversation',
      tag: 'conversations',
      summary: 'An agent claims a waiting conversation (R6)',
      path: conversationIdParam,
      body: agentIdBody,
      responses: { 200: json('Claimed.', assigned) },
      errors: ['NotFound', 'Conflict', 'TemporalUnavailable'],
    },
  },
  '/api/conversations/{id}/assign': {
    post: {
      operationId: 'assignConversation',
      tag: 'conversations',
      summary: 'Admin transfer to an agent',
      path: conversationIdParam,
      body: agentIdBody,
      responses: { 200: json('Assigned.', assigned) },
      errors: ['NotFound', 'Conflict', 'TemporalUnavailable'],
    },
  },
  '/api/conversations/{id}/messages': {
    post: {
      operationId: 'sendAgentReply',
      tag: 'conversations',
      summary: 'Agent reply (only the assigned agent)',
      path: conversationIdParam,
      body: replyBody,
      responses: { 201: json('Recorded and sent (or skipped, see status).', sent) },
      errors: ['NotFound', 'Conflict', 'TemporalUnavailable'],
    },
  },
  '/api/conversations/{id}/close': {
    post: {
      operationId: 'closeConversation',
      tag: 'conversations',
      summary: 'Close (R10 applies); with agentId only the assigned agent may',
      path: conversationIdParam,
      body: closeBody,
      responses: { 200: json('Closed.', closed) },
      errors: ['NotFound', 'Conflict', 'TemporalUnavailable'],
    },
  },
  '/api/conversations/{id}/bot/messages': {
    post: {
      operationId: 'sendBotReply',
      tag: 'bot',
      summary: 'Bot reply (only while the bot has the conversation)',
      path: conversationIdParam,
      body: botReplyBody,
      responses: { 201: json('Recorded and sent (or skipped, see status).', sent) },
      errors: ['NotFound', 'Conflict', 'TemporalUnavailable'],
    },
  },
  '/api/conversations/{id}/bot/handover': {
    post: {
      operationId: 'botHandover',
      tag: 'bot',
      summary: 'The bot hands the conversation over to humans (R8)',
      path: conversationIdParam,
      body: emptyBody,
      responses: { 200: json('Handed over.', handedOver) },
      errors: ['NotFound', 'Conflict', 'TemporalUnavailable'],
    },
  },
  '/api/conversations/{id}/bot/complete': {
    post: {
      operationId: 'botComplete',
      tag: 'bot',
      summary: 'The bot flow finished; the conversation closes (R8)',
      path: conversationIdParam,
      body: emptyBody,
      responses: { 200: json('Closed.', closed) },
      errors: ['NotFound', 'Conflict', 'TemporalUnavailable'],
    },
  },

  // --- Reports ---------------------------------------------------------------
  '/api/csat': {
    get: {
      operationId: 'getCsat',
      tag: 'reports',
      summary: 'Survey answers (newest first) and their average',
      query: csatQuery,
      responses: { 200: json('The answers.', csatReport) },
    },
  },
};

export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.1',
  info: {
    title: 'Inbox Autopilot API',
    version,
    description: [
      'Automation settings, agents and conversation actions for WhatsApp customer support (SPEC §6).',
      '',
      'Everything under `/api` needs `Authorization: Bearer <API key>` or a session cookie (POST /api/session), except sign-in and this document. Bodies are JSON, at most 256 kB.',
      'Errors are `{"error":{"code","message","details":[{"field","message"}]}}`: 400 invalid input (details name each bad field),',
      '401 not authenticated, 403 not allowed (SPEC §6.1), 404 unknown conversation or agent, 409 state conflict, 413 body too large, 429 throttled.',
    ].join('\n'),
  },
  tags: [
    { name: 'access', description: 'Sessions, users and API keys (SPEC §6.1)' },
    { name: 'automation', description: 'Per-number automation settings' },
    { name: 'agents', description: 'Agents, their capacity and load' },
    { name: 'conversations', description: 'Conversations and the actions agents and admins take on them' },
    { name: 'bot', description: 'Actions of a bot that handles conversations in bot routing mode' },
    { name: 'reports', description: 'Queues and satisfaction surveys' },
    { name: 'events', description: 'Outbound event subscriptions and their delivery log (SPEC §9)' },
    { name: 'webhooks', description: 'Called by Meta; authenticated by signature, not API key' },
    { name: 'operations', description: 'Health and API description; no API key' },
  ],
  security: [{ bearerAuth: [] }],
  paths: Object.fromEntries(
    Object.entries(API).map(([path, methods]) => [
      path,
      Object.fromEntries(Object.entries(methods).map(([method, spec]) => [method, operation(spec)])),
    ]),
  ),
  components: {
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key: one of API_KEYS (admin) or one created by POST /api/api-keys. Browsers use the session cookie instead.',
      },
    },
    schemas: generateComponentSchemas(),
    responses: errorResponses,
  },
};
