/**
 * The durable inbound relay. The webhook stores a customer message (SPEC §5: 200 once it
 * is durably stored) and answers without waiting for Temporal; this relay hands stored
 * messages to their workflows afterwards: `signalWithStart` of the conversation workflow,
 * or the start of the welcome workflow (R1).
 *
 * - Nothing is lost: a message is pending in PostgreSQL until the relay records that its
 *   workflow has it; a relay that stops (killed, restarted) leaves it pending for the next.
 * - Nothing is doubled: a message handed over twice (signalled, then the process died
 *   before recording it) is dropped by the workflow, which remembers the message ids it has.
 * - In order per contact, across replicas: see src/store/inbound-relay-store.ts.
 * - A failing hand-over is retried with backoff; that contact's later messages wait.
 *
 * One loop per process: woken by the intake when it stores a message, and every
 * `pollMs` for messages stored by other replicas and retries that came due.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from '../logger';
import type { PendingInboundMessage, Store } from '../store';
import {
  CONVERSATION_WORKFLOW_TASK_TIMEOUT,
  CONVERSATION_WORKFLOW_TYPE,
  type ConversationWorkflowInput,
  type CustomerMessageSignal,
  conversationWorkflowId,
  customerMessageSignal,
} from '../../workflows/conversation/contract';
import { WELCOME_WORKFLOW_TYPE, type WelcomeWorkflowInput, welcomeWorkflowId } from '../../workflows/welcome/contract';
import { PhoneNumberIdKey } from '../../workflows/search-attributes';

export interface InboundRelayDeps {
  store: Store;
  temporal: Client;
  taskQueue: string;
  log: Logger;
  /** Contacts handed over per batch, concurrently. */
  batchContacts?: number;
  pollMs?: number;
}

export interface InboundRelay {
  /** A message was stored: relay soon. */
  nudge(): void;
  /** Hands over everything due now, then resolves (tests; the loop does the same). */
  drain(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export function createInboundRelay(deps: InboundRelayDeps): InboundRelay {
  const { store, temporal, taskQueue, log } = deps;
  const batchContacts = deps.batchContacts ?? 64;
  const pollMs = deps.pollMs ?? 1000;
  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let nudged = false;

  async function handOver(message: PendingInboundMessage): Promise<void> {
    if (message.kind === 'welcome') {
      const input: WelcomeWorkflowInput = {
        phoneNumberId: message.phoneNumberId,
        contactId: message.contactId,
        requestedAt: message.sentAt.getTime(),
      };
      await temporal.workflow
        .start(WELCOME_WORKFLOW_TYPE, {
          taskQueue,
          workflowId: welcomeWorkflowId(message.phoneNumberId, message.contactId),
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        })
        .catch((error: Error) => {
          if (error.name !== 'WorkflowExecutionAlreadyStartedError') throw error;
        });
      return;
    }
    const signal: CustomerMessageSignal = {
      messageId: message.messageId,
      sentAt: message.sentAt.getTime(),
      opensServiceWindow: message.opensServiceWindow,
      isFirstContact: message.isFirstContact,
    };
    const input: ConversationWorkflowInput = { phoneNumberId: message.phoneNumberId, contactId: message.contactId };
    // The status search attribute is set by the workflow once routing has decided it.
    await temporal.workflow.signalWithStart(CONVERSATION_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: conversationWorkflowId(message.phoneNumberId, message.contactId),
      workflowTaskTimeout: CONVERSATION_WORKFLOW_TASK_TIMEOUT,
      args: [input],
      signal: customerMessageSignal,
      signalArgs: [signal],
      typedSearchAttributes: [{ key: PhoneNumberIdKey, value: message.phoneNumberId }],
    });
  }

  /** One batch; true when it found work (there may be more). */
  async function batch(): Promise<boolean> {
    const result = await store.inboundRelay.relayBatch(batchContacts, async (messages) => {
      const delivered: string[] = [];
      for (const message of messages) {
        try {
          await handOver(message);
          delivered.push(message.messageId);
        } catch (error) {
          log.warn(
            { err: error, messageId: message.messageId, attempt: message.attempts + 1 },
            'inbound relay: hand-over failed; retrying with backoff',
          );
          return { delivered, failed: { messageId: message.messageId, error: String((error as Error)?.message ?? error) } };
        }
      }
      return { delivered, failed: null };
    });
    return result.delivered + result.failed > 0;
  }

  async function drain(): Promise<void> {
    while (await batch()) {
      /* until nothing is due */
    }
  }

  async function run(): Promise<void> {
    while (running) {
      nudged = false;
      try {
        // Batch by batch, so a stop waits for one batch at most.
        while (running && (await batch())) {
          /* until nothing is due */
        }
      } catch (error) {
        if (running) log.warn({ err: error }, 'inbound relay: batch failed; retrying');
      }
      if (!running) break;
      if (nudged) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  }

  return {
    nudge() {
      nudged = true;
      wake?.();
    },
    drain,
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      loop = null;
    },
  };
}
