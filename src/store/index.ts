/**
 * The data-access layer: the only code that reads or writes PostgreSQL (a lint rule keeps
 * knex and pg out of everything else). One sub-store per aggregate; each takes and
 * returns plain typed objects in camelCase, never knex rows or query builders. Built once
 * at start (src/service.ts) and handed to the HTTP routers, the webhook intake and the
 * activities.
 */
import { type Database, isDatabaseReachable } from '../db/knex';
import type { Assignment } from '../../workflows/rules/vocabulary';
import { createAgentStore, type AgentStore } from './agent-store';
import { acknowledgeAssignments, createAssignmentStore, reconcileAssignments, type AssignmentStore } from './assignment-store';
import { createContactStore, type ContactStore } from './contact-store';
import { createConversationStore, type ConversationStore } from './conversation-store';
import { createCsatStore, type CsatStore } from './csat-store';
import { createMessageStore, type MessageStore } from './message-store';
import { createInboundRelayStore, type InboundRelayStore } from './inbound-relay-store';
import { createMetricsStore, type MetricsStore } from './metrics-store';
import { createSendSlotStore, type SendSlotStore } from './send-slot-store';
import { createServiceConditionStore, type ServiceConditionStore } from './service-condition-store';
import { createSettingsStore, type SettingsStore } from './settings-store';
import { createWebhookEventStore, type WebhookEventStore } from './webhook-event-store';
import { createPeopleStore, type PeopleStore } from './people-store';
import { createActivityStore, type ActivityStore } from './activity-store';
import { createWebhookStore, type WebhookStore } from './webhook-store';

/** The outbox of assignments whose workflows have not been told yet (R6; see assignment-store.ts). */
export interface AssignmentOutboxStore {
  /** The sweeper's pass: drains into idle agents, returns notifications that may have been lost. */
  reconcile(olderThanMs: number): Promise<Assignment[]>;
  /** The workflows named have been told; their outbox rows go. */
  acknowledge(assignments: { conversationId: string; agentId: string }[]): Promise<void>;
}

export interface Store {
  conversations: ConversationStore;
  messages: MessageStore;
  /** Stored customer messages waiting to be handed to their workflows (src/inbound/inbound-relay.ts). */
  inboundRelay: InboundRelayStore;
  /** Read at scrape time by GET /metrics. */
  metrics: MetricsStore;
  contacts: ContactStore;
  settings: SettingsStore;
  agents: AgentStore;
  csat: CsatStore;
  webhookEvents: WebhookEventStore;
  /** Routing, claims, transfers and queue drains, as PostgreSQL transactions (R3, R6). */
  assignments: AssignmentStore;
  assignmentOutbox: AssignmentOutboxStore;
  /** Send pacing slots shared by every worker replica. */
  sendSlots: SendSlotStore;
  serviceConditions: ServiceConditionStore;
  /** Users, sessions, sign-in failures and API keys (SPEC §6.1). */
  people: PeopleStore;
  /** Conversation timelines and the live change-event feed. */
  activity: ActivityStore;
  /** Outbound event subscriptions, their deliveries and the delivery log (SPEC §9). */
  webhooks: WebhookStore;
  /** Whether PostgreSQL answers (/healthz). */
  isReachable(): Promise<boolean>;
}

export function createStore(db: Database): Store {
  const assignments = createAssignmentStore(db);
  return {
    conversations: createConversationStore(db),
    messages: createMessageStore(db),
    inboundRelay: createInboundRelayStore(db),
    metrics: createMetricsStore(db),
    contacts: createContactStore(db),
    settings: createSettingsStore(db),
    agents: createAgentStore(db),
    csat: createCsatStore(db),
    webhookEvents: createWebhookEventStore(db),
    assignments,
    assignmentOutbox: {
      reconcile: (olderThanMs) => reconcileAssignments(db, assignments, olderThanMs),
      acknowledge: (list) => acknowledgeAssignments(db, list),
    },
    sendSlots: createSendSlotStore(db),
    serviceConditions: createServiceConditionStore(db),
    people: createPeopleStore(db),
    activity: createActivityStore(db),
    webhooks: createWebhookStore(db),
    isReachable: () => isDatabaseReachable(db),
  };
}

/** Opening and migrating the database belongs to the same layer; src/service.ts does it once. */
export { assertSchemaCurrent, createDatabase, type Database, migrateToLatest, pendingMigrations, SchemaBehindError } from '../db/knex';

export type { AgentProfile, AgentStore, AgentWithLoad } from './agent-store';
export type { AssignmentStore } from './assignment-store';
export type { Contact, ContactStore } from './contact-store';
export type { ContactSummary, Conversation, ConversationFilter, ConversationStore, NewConversation } from './conversation-store';
export { InvalidCursor } from './conversation-store';
export type { ApiKeyRecord, PeopleStore, User } from './people-store';
export type { Actor, ActivityStore, ChangeEvent, ChangeListener, RuleTimelineEntry, TimelineEntry } from './activity-store';
export type { CsatAnswer, CsatStore } from './csat-store';
export type { ContactRelayOutcome, InboundRelayStore, PendingInboundMessage } from './inbound-relay-store';
export type { Message, MessageStore, NewInboundMessage, OutboundIntent, OutboundOutcome, StoredInboundMessage } from './message-store';
export { createSendSlotStore, type SendSlotStore } from './send-slot-store';
export type { ServiceCondition, ServiceConditionStore } from './service-condition-store';
export type { SettingsStore } from './settings-store';
export type { WebhookEventStore } from './webhook-event-store';
export type { AttemptOutcome, AttemptRecord, DeliveryLogEntry, DueDelivery, Subscription, SubscriptionInput, WebhookStore } from './webhook-store';
