import path from 'node:path';
import { z } from 'zod';

/**
 * Configuration comes only from environment variables (12-factor), validated once at
 * start so a typo fails loudly with the variable's name instead of misbehaving later.
 */
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** Says what a whole number of milliseconds WHATSAPP_REQUEST_TIMEOUT_MS may be. */
export const REQUEST_TIMEOUT_RANGE = 'must be a whole number of milliseconds from 100 to 55000';

/**
 * Every variable the service reads, each with its `.describe()`: the one definition that
 * docs/CONFIGURATION.md is generated from (`npm run config-reference`; a unit test fails
 * when the file is out of date or a variable has no description).
 */
export const envSchema = z.object({
  PORT: port(3000).describe('HTTP port of the API and the webhooks (role `api`, and `npm start`).'),
  DATA_DIR: z
    .string()
    .trim()
    .min(1)
    .default('.data')
    .describe(
      "State of `npm start`: the embedded PostgreSQL's data, the dev server's SQLite file, generated secrets (`secrets.json`, mode 0600). Resolved from the working directory. Survives restarts.",
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe("pino level. Workflows' and activities' own lines keep theirs; the Temporal SDK's INFO chatter is logged at debug."),
  LOG_FORMAT: z
    .enum(['auto', 'pretty', 'json'])
    .default('auto')
    .describe(
      '`json` (one object a line), `pretty`, or `auto`: pretty in a terminal, JSON otherwise. Lines logged in an activity carry `workflowId`, `activity`, `attempt` and `conversationId`.',
    ),

  DATABASE_URL: optionalString
    .pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    )
    .describe(
      'External PostgreSQL (`postgres://user:password@host:5432/db`). Required by the roles `worker` and `api` and by `npm run migrate` in production. Unset (`npm start` only): the embedded PostgreSQL of `DATA_DIR` on `EMBEDDED_POSTGRES_PORT`.',
    ),
  EMBEDDED_POSTGRES_PORT: port(5488).describe('Port of the embedded PostgreSQL, when `DATABASE_URL` is unset.'),
  DATABASE_POOL_MAX: z.coerce
    .number()
    .int()
    .min(2)
    .max(200)
    .default(20)
    .describe('PostgreSQL connections per process (2–200): webhooks, the inbound relay and activities share them.'),

  TEMPORAL_ADDRESS: optionalString.describe(
    'External Temporal frontend (`host:7233`): a self-hosted cluster or Temporal Cloud. Required by the roles `worker` and `api`. Unset (`npm start` only): the CLI dev server on `TEMPORAL_DEV_SERVER_PORT`.',
  ),
  TEMPORAL_API_KEY: optionalString.describe('Temporal Cloud API key; turns on TLS.'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default').describe('Temporal namespace of every workflow.'),
  TEMPORAL_TASK_QUEUE: z
    .string()
    .trim()
    .min(1)
    .default('inbox-autopilot')
    .describe('Task queue the workers poll and the API starts workflows on: the same for every process of one installation.'),
  TEMPORAL_DEV_SERVER_PORT: port(7233).describe('Port of the Temporal dev server, when `TEMPORAL_ADDRESS` is unset.'),
  TEMPORAL_UI_PORT: port(8233).describe("Port of the dev server's Web UI, when `TEMPORAL_ADDRESS` is unset."),
  METRICS_PORT: port(9464).describe('Role `worker` serves `GET /metrics` on this port (the API and `npm start` serve it on `PORT`).'),
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(1000)
    .describe(
      'Workflow runs a worker keeps in memory (sticky cache); the others are replayed from their (short) history when a timer or message wakes them. Each cached run costs about 0.35 MiB of worker memory; a burst of timers is on time only while the conversations it wakes are cached (2,000 due at once: p99 0.5–0.7 s all cached, 3–13 s with 1,000; README "Benchmarks"), so size it to the conversations in flight at once, or run more workers.',
    ),
  TEMPORAL_WORKFLOW_STACK_TRACES: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      '`on` (the SDK\'s own behaviour): the worker records where every promise of workflow code was made, for the Web UI\'s Stack Trace tab of a running workflow. `off`: it does not, and replaying a conversation takes about a third less of the worker\'s CPU (README "Workflow stack traces"); the tab then answers "Workflow stack traces are not enabled on this worker". History, queries and everything else are the same either way.',
    ),
  /**
   * Role `all` only: where the worker runs. `process`: a child process of its own (`npm run
   * worker` on the same PostgreSQL and dev server), so workflow tasks and activities never
   * hold up the webhook's event loop; `inline`: in the same process as the API. `npm start`
   * defaults to `process` (src/main.ts); a service started in-process (tests) to `inline`.
   */
  EMBEDDED_WORKER: z
    .enum(['process', 'inline'])
    .default('inline')
    .describe(
      "Role `all` (`npm start`) only: `process` runs the worker as a child process of its own (restarted if it dies; its metrics merged into `GET /metrics`), so workflow tasks and activities never hold up the webhook's event loop; `inline` runs it inside the API process. `npm start` sets `process` unless told otherwise; a service started in-process by the tests runs `inline`.",
    ),

  API_KEYS: optionalString.describe(
    'Comma-separated admin bearer keys for `/api` (README, Accounts and access). Unset: one generated once, kept in `DATA_DIR` and printed at start.',
  ),
  ADMIN_PASSWORD: optionalString
    .pipe(z.string().min(12, 'must be at least 12 characters').optional())
    .describe(
      "The first admin's password (at least 12 characters), used only when no user exists (SPEC §6.1). Unset: generated once, kept in `DATA_DIR` and printed by the start that created the admin.",
    ),
  PUBLIC_URL: optionalString
    .pipe(z.url({ protocol: /^https?$/ }).optional())
    .describe(
      'Where people reach the service, e.g. `https://inbox.example.com`: https makes the session cookie Secure, and its origin passes the same-origin check.',
    ),
  WHATSAPP_APP_SECRET: optionalString.describe(
    "The Meta app's secret, which signs webhooks (`X-Hub-Signature-256`). Unset: generated once and kept in `DATA_DIR` (enough for the simulator, not for Meta).",
  ),
  WHATSAPP_VERIFY_TOKEN: optionalString.describe(
    "The webhook verification handshake's token (Meta's `hub.verify_token`). Unset: generated once and kept in `DATA_DIR`.",
  ),
  WHATSAPP_ACCESS_TOKEN: optionalString.describe(
    'Cloud API access token. Unset: sandbox mode, outbound messages are recorded (and logged), not sent.',
  ),
  WHATSAPP_API_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://graph.facebook.com')
    .describe("Base URL of Meta's Graph API (tests point it at a fake)."),
  WHATSAPP_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v23.0')
    .default('v23.0')
    .describe('Graph API version in every Cloud API URL.'),
  WHATSAPP_REQUEST_TIMEOUT_MS: optionalString
    .pipe(
      z.coerce
        .number<string | undefined>({ error: REQUEST_TIMEOUT_RANGE })
        .int(REQUEST_TIMEOUT_RANGE)
        .min(100, REQUEST_TIMEOUT_RANGE)
        .max(55_000, REQUEST_TIMEOUT_RANGE)
        .optional(),
    )
    .describe(
      'How long one Cloud API call may take (100–55000 ms), connection to the last byte of the answer, before it counts as a transient failure and is retried (README, When Meta does not answer). Unset: 15000.',
    ),
  WHATSAPP_MESSAGES_PER_SECOND: z.coerce
    .number()
    .positive()
    .max(1000)
    .default(80)
    .describe("A number's throughput (Meta's default is 80 messages a second): sends are paced to it, across all worker replicas."),
  WHATSAPP_CONTACT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(6000)
    .describe("Spacing between two messages to the same customer (Meta's pair rate limit: about one every 6 s)."),
  /** Outbound event subscriptions (SPEC §9) may use http to any host; otherwise https, or http only to loopback. */
  ALLOW_HTTP_WEBHOOKS: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1')
    .describe(
      'Outbound event subscriptions (SPEC §9) may use http to any host (`true` or `1`); otherwise https, or http only to loopback. Subscription URLs never follow redirects.',
    ),
  /** Outbound events: the wait before the first retry of a failed delivery, doubling after each (capped at 1 h, for 24 h). */
  EVENT_RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(3_600_000)
    .default(1000)
    .describe('Outbound events: the wait before the first retry of a failed delivery (10 ms–1 h), doubling after each, capped at 1 h, for 24 h.'),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return { ...result.data, DATA_DIR: path.resolve(result.data.DATA_DIR) };
}

/** Secrets after generation/persistence (see secrets.ts): always present at runtime. */
export interface RuntimeSecrets {
  apiKeys: string[];
  appSecret: string;
  verifyToken: string;
  /** The first admin's password: ADMIN_PASSWORD, or generated and kept in DATA_DIR. */
  adminPassword: string;
  /** Whether adminPassword was generated (and so is printed at start). */
  adminPasswordGenerated: boolean;
}

export interface WhatsAppSettings {
  apiBaseUrl: string;
  apiVersion: string;
  /** Absent: sandbox mode, outbound messages are recorded, not sent. */
  accessToken: string | undefined;
  messagesPerSecond: number;
  contactIntervalMs: number;
  /** WHATSAPP_REQUEST_TIMEOUT_MS; absent: the Graph client's own default (src/whatsapp/graph-client.ts). */
  requestTimeoutMs?: number;
}

export function whatsAppSettings(env: Env): WhatsAppSettings {
  return {
    apiBaseUrl: env.WHATSAPP_API_BASE_URL.replace(/\/+$/, ''),
    apiVersion: env.WHATSAPP_API_VERSION,
    accessToken: env.WHATSAPP_ACCESS_TOKEN,
    messagesPerSecond: env.WHATSAPP_MESSAGES_PER_SECOND,
    contactIntervalMs: env.WHATSAPP_CONTACT_INTERVAL_MS,
    requestTimeoutMs: env.WHATSAPP_REQUEST_TIMEOUT_MS,
  };
}
