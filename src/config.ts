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

const envSchema = z.object({
  PORT: port(3000),
  DATA_DIR: z.string().trim().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: readable lines in a terminal, JSON (one object a line) otherwise. */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),

  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  EMBEDDED_POSTGRES_PORT: port(5488),
  /** Connections per process: webhooks, the inbound relay and activities share them. */
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(200).default(20),

  TEMPORAL_ADDRESS: optionalString,
  /** Temporal Cloud API key; turns on TLS. */
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('inbox-autopilot'),
  TEMPORAL_DEV_SERVER_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  /** `npm run worker` serves GET /metrics on this port (the API and `npm start` serve it on PORT). */
  METRICS_PORT: port(9464),
  /** Workflow runs a worker keeps in memory (sticky cache); others are replayed from history when they wake. */
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(1000),
  /**
   * Role `all` only: where the worker runs. `process`: a child process of its own (`npm run
   * worker` on the same PostgreSQL and dev server), so workflow tasks and activities never
   * hold up the webhook's event loop; `inline`: in the same process as the API. `npm start`
   * defaults to `process` (src/main.ts); a service started in-process (tests) to `inline`.
   */
  EMBEDDED_WORKER: z.enum(['process', 'inline']).default('inline'),

  API_KEYS: optionalString,
  /** The first admin's password (SPEC §6.1); unset: generated once, kept in DATA_DIR. */
  ADMIN_PASSWORD: optionalString.pipe(z.string().min(12, 'must be at least 12 characters').optional()),
  /** Where people reach the service; an https URL makes the session cookie Secure. */
  PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  WHATSAPP_APP_SECRET: optionalString,
  WHATSAPP_VERIFY_TOKEN: optionalString,
  WHATSAPP_ACCESS_TOKEN: optionalString,
  WHATSAPP_API_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://graph.facebook.com'),
  WHATSAPP_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v23.0')
    .default('v23.0'),
  /** Meta's default throughput per business number (messages per second). */
  WHATSAPP_MESSAGES_PER_SECOND: z.coerce.number().positive().max(1000).default(80),
  /** Meta's pair rate limit: about one message every 6 s to the same customer. */
  WHATSAPP_CONTACT_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(6000),
  /** Outbound event subscriptions (SPEC §9) may use http to any host; otherwise https, or http only to loopback. */
  ALLOW_HTTP_WEBHOOKS: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** Outbound events: the wait before the first retry of a failed delivery, doubling after each (capped at 1 h, for 24 h). */
  EVENT_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
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
}

export function whatsAppSettings(env: Env): WhatsAppSettings {
  return {
    apiBaseUrl: env.WHATSAPP_API_BASE_URL.replace(/\/+$/, ''),
    apiVersion: env.WHATSAPP_API_VERSION,
    accessToken: env.WHATSAPP_ACCESS_TOKEN,
    messagesPerSecond: env.WHATSAPP_MESSAGES_PER_SECOND,
    contactIntervalMs: env.WHATSAPP_CONTACT_INTERVAL_MS,
  };
}
