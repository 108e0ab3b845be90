/**
 * Runs the real conversation workflow on the time-skipping server with real activities
 * (PostgreSQL, and the fake Graph API over HTTP), fed through the real webhook intake.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Database } from '../../src/db/knex';
import { createStore, type Store } from '../../src/store';
import { createWebhookIntake, type WebhookIntake } from '../../src/inbound/webhook-intake';
import { createInboundRelay, type InboundRelay } from '../../src/inbound/inbound-relay';
import { createGraphClient } from '../../src/whatsapp/graph-client';
import { createSendPacer } from '../../src/whatsapp/send-pacer';
import { createWorker } from '../../src/temporal/worker';
import type { InboundMessageEvent } from '../../src/whatsapp/webhook-events';
import { type AutomationSettings, withDefaults } from '../../workflows/rules/automation-settings';
import { createTestDatabase, stopTimeSkippingEnvironment, testLog, timeSkippingEnvironment, workflowBundle } from './environment';
import { FakeGraphApi } from './fake-graph-api';

export const PHONE_NUMBER_ID = '106540352242922';

export interface ConversationHarness {
  env: TestWorkflowEnvironment;
  /** For assertions; the code under test reaches it only through `store`. */
  db: Database;
  store: Store;
  graph: FakeGraphApi;
  /** The real intake, followed by the real inbound relay handing over what it stored. */
  intake: WebhookIntake;
  relay: InboundRelay;
  taskQueue: string;
  /** Runs `fn` while the worker polls; the worker stops after. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Delivers an inbound customer text as the webhook receiver would. */
  customerSays(contactKey: string, body: string, options?: { wamid?: string; sentAt?: number; phoneNumberId?: string }): Promise<string>;
  saveSettings(settings: Partial<{ [K in keyof AutomationSettings]: Partial<AutomationSettings[K]> }>, phoneNumberId?: string): Promise<void>;
  now(): Promise<number>;
  close(): Promise<void>;
}

export interface ConversationHarnessOptions {
  /** The worker's TEMPORAL_WORKFLOW_STACK_TRACES (src/temporal/worker.ts); on, the default, unless set. */
  workflowStackTraces?: boolean;
}

export async function createConversationHarness(options: ConversationHarnessOptions = {}): Promise<ConversationHarness> {
  const [env, bundle, { db }] = await Promise.all([timeSkippingEnvironment(), workflowBundle(), createTestDatabase()]);
  const graph = await new FakeGraphApi().start();
  const taskQueue = `test-${randomUUID()}`;
  const graphClient = createGraphClient({
    apiBaseUrl: graph.url,
    apiVersion: 'v23.0',
    accessToken: 'test-token',
    messagesPerSecond: 80,
    contactIntervalMs: 0,
  });
  const store = createStore(db);
  const relay = createInboundRelay({ store, temporal: env.client, taskQueue, log: testLog });
  const storing = createWebhookIntake({ store, relay: { nudge: () => undefined }, log: testLog });
  // As the receiver and the relay do it, with the hand-over awaited: rule tests then see
  // the message in its workflow when `accept` resolves.
  const intake: WebhookIntake = {
    async accept(events) {
      await storing.accept(events);
      await relay.drain();
    },
  };
  // A Worker runs once; each `run` gets a fresh one on the same task queue.
  const newWorker = () =>
    createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: bundle,
      workflowStackTraces: options.workflowStackTraces,
      // No pair pacing here: rule tests would wait 6 real seconds between messages.
      deps: {
        store,
        graph: graphClient,
        pacer: createSendPacer(store.sendSlots, { messagesPerSecondPerNumber: 1000, contactIntervalMs: 0 }),
        log: testLog,
      },
    });
  let wamidCounter = 0;
  const harness: ConversationHarness = {
    env,
    db,
    store,
    graph,
    intake,
    relay,
    taskQueue,
    run: async (fn) => (await newWorker()).runUntil(fn),
    now: () => env.currentTimeMs(),
    async customerSays(contactKey, body, options = {}) {
      const wamid = options.wamid ?? `wamid.TEST${randomUUID()}-${++wamidCounter}`;
      const sentAt = options.sentAt ?? (await env.currentTimeMs());
      const event = inboundTextEvent(contactKey, body, { wamid, sentAt, phoneNumberId: options.phoneNumberId });
      await intake.accept([event]);
      return wamid;
    },
    async saveSettings(settings, phoneNumberId = PHONE_NUMBER_ID) {
      await store.settings.put(phoneNumberId, withDefaults(settings));
    },
    async close() {
      await graph.stop();
      await stopTimeSkippingEnvironment(env);
    },
  };
  return harness;
}

/** An inbound customer text as the webhook parser would produce it. */
export function inboundTextEvent(
  contactKey: string,
  body: string,
  options: { wamid: string; sentAt: number; phoneNumberId?: string; profileName?: string },
): InboundMessageEvent {
  return {
    kind: 'message',
    phoneNumberId: options.phoneNumberId ?? PHONE_NUMBER_ID,
    wamid: options.wamid,
    sentAt: new Date(options.sentAt),
    type: 'text',
    rawType: 'text',
    contact: { key: contactKey, userId: contactKey, waId: null, profileName: options.profileName ?? 'Test Customer' },
    content: { kind: 'text', body },
    contextMessageId: null,
    referral: null,
    errors: [],
    opensServiceWindow: true,
    raw: { id: options.wamid, type: 'text', text: { body } },
  };
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
