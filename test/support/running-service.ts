/**
 * The service as `npm start` runs it — real Temporal dev server (the CLI), PostgreSQL,
 * worker and Express — pointed at a fake Graph API on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { loadEnv, type Env } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createEventHub, type EventHub } from '../../src/http/event-stream';
import { createStore } from '../../src/store';
import { freePort, freeSmallPort } from '../../src/ports';
import { type RunningService, startService } from '../../src/service';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { createTestDatabase, testLog } from './environment';
import { FakeGraphApi } from './fake-graph-api';

export const E2E_SECRET = 'e2e-app-secret';
export const E2E_VERIFY_TOKEN = 'e2e-verify-token';
export const E2E_API_KEY = 'e2e-api-key';

export interface ServiceUnderTest {
  service: RunningService;
  env: Env;
  graph: FakeGraphApi;
  db: Awaited<ReturnType<typeof createTestDatabase>>['db'];
  baseUrl: string;
  restart(): Promise<void>;
  postWebhook(body: string | object, signature?: string | null): Promise<Response>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  api(method: string, p: string, body?: unknown, apiKey?: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startServiceUnderTest(envOverrides: Record<string, string> = {}): Promise<ServiceUnderTest> {
  const graph = await new FakeGraphApi().start();
  const { db, url } = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-e2e-'));
  const env = loadEnv({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    DATABASE_URL: url,
    // Below the ephemeral range: the dev server binds these a few seconds after they are
    // picked, and meanwhile an outgoing connection of any process may take an ephemeral
    // port (CI: "the Temporal dev server exited during start (is port … in use?)").
    TEMPORAL_DEV_SERVER_PORT: String(await freeSmallPort()),
    TEMPORAL_UI_PORT: String(await freeSmallPort()),
    WHATSAPP_ACCESS_TOKEN: 'e2e-access-token',
    WHATSAPP_API_BASE_URL: graph.url,
    WHATSAPP_APP_SECRET: E2E_SECRET,
    WHATSAPP_VERIFY_TOKEN: E2E_VERIFY_TOKEN,
    API_KEYS: E2E_API_KEY,
    LOG_LEVEL: 'silent',
    // Real pacing per number; the 6 s pair spacing would only slow the scenarios down.
    WHATSAPP_CONTACT_INTERVAL_MS: '0',
    ...envOverrides,
  });
  let service = await startService(env, 'all', testLog);
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  return {
    get service() {
      return service;
    },
    env,
    graph,
    db,
    baseUrl,
    async restart() {
      await service.stop();
      service = await startService(env, 'all', testLog);
    },
    postWebhook(body, signature) {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const sig = signature === undefined ? signWebhookBody(raw, E2E_SECRET) : signature;
      if (sig !== null) headers['x-hub-signature-256'] = sig;
      return fetch(`${baseUrl}/webhooks/whatsapp`, { method: 'POST', headers, body: raw });
    },
    async api(method, p, body, apiKey = E2E_API_KEY) {
      const response = await fetch(`${baseUrl}/api${p}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: response.status, body: parsed };
    },
    async stop() {
      await service.stop();
      await graph.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A text message webhook as Meta sends it. */
export function textWebhook(options: {
  wamid: string;
  from: string;
  body: string;
  phoneNumberId?: string;
  timestamp?: number;
  name?: string;
}): object {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA_E2E',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550000000', phone_number_id: options.phoneNumberId ?? '106540352242922' },
              contacts: [{ profile: { name: options.name ?? 'E2E Customer' }, wa_id: options.from }],
              messages: [
                {
                  from: options.from,
                  id: options.wamid,
                  timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: options.body },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

export interface ApiReplica {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Another API process on the service's database and Temporal, as a second replica behind
 * a load balancer would be: its own HTTP server and its own live-update hub (LISTEN).
 */
export async function startApiReplica(
  s: ServiceUnderTest,
  temporal: Client,
  options: { heartbeatMs?: number; publicUrl?: string; events?: EventHub } = {},
): Promise<ApiReplica> {
  const store = createStore(s.db);
  const events = options.events ?? createEventHub({ store, log: testLog, heartbeatMs: options.heartbeatMs });
  const app = createApp({
    store,
    temporal,
    intake: null as never,
    log: testLog,
    taskQueue: s.env.TEMPORAL_TASK_QUEUE,
    graph: null,
    sandbox: true,
    apiKeys: ['replica-key'],
    appSecret: 'unused',
    verifyToken: 'unused',
    events,
    publicUrl: options.publicUrl,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      await events.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
