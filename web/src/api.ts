/**
 * The HTTP API of SPEC §6, as the web app uses it. Same origin as the app: a session
 * cookie authenticates (POST /api/session). When the server has no session endpoint yet,
 * an admin API key (kept in this tab's sessionStorage only) is sent as a bearer token.
 */

export interface ApiErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export type Role = 'admin' | 'agent' | 'bot';

export interface Principal {
  kind: 'user' | 'key';
  login: string;
  name: string | null;
  role: Role;
  /** The agent record of an agent user (SPEC §6.1). */
  agentId: string | null;
}

export interface Contact {
  id: string;
  name: string | null;
  waId: string | null;
  userId: string | null;
}

export type ConversationStatus = 'bot' | 'unassigned' | 'queued' | 'assigned' | 'closed';

export interface Conversation {
  id: string;
  phoneNumberId: string;
  contactId: string;
  contact?: Contact | null;
  status: ConversationStatus;
  agentId: string | null;
  closeReason: string | null;
  openedAt: string;
  queuedAt: string | null;
  assignedAt: string | null;
  closedAt: string | null;
  lastCustomerMessageAt: string | null;
  position?: number;
}

export interface MessageContent {
  type: string;
  [key: string]: unknown;
}

export interface Message {
  id: string;
  direction: 'in' | 'out' | 'inbound' | 'outbound';
  author: string | null;
  agentId: string | null;
  automation: string | null;
  type: string;
  content: MessageContent | null;
  status: string | null;
  error: unknown;
  skipReason: string | null;
  wamid: string | null;
  sentAt: string | null;
  statusAt: string | null;
}

export interface TimelineEntry {
  at?: string;
  occurredAt?: string;
  type?: string;
  kind?: string;
  actor?: unknown;
  [key: string]: unknown;
}

export interface ConversationDetail extends Conversation {
  messages: Message[];
  timers?: { rule: string; dueAt: string }[];
  timeline?: TimelineEntry[];
  /** R14: null when the number has no business hours. */
  businessHours?: { timezone: string; open: boolean; nextOpeningAt: string | null } | null;
}

export interface Agent {
  id: string;
  name: string;
  receptionLimit: number;
  status: 'online' | 'offline';
  phoneNumberIds: string[] | null;
  load: number;
  queued: number;
}

export interface CsatAnswer {
  conversationId: string;
  phoneNumberId: string;
  agentId: string | null;
  score: number;
  answeredAt: string;
}

export interface CsatReport {
  count: number;
  average: number | null;
  answers: CsatAnswer[];
}

/** An outbound event subscription (SPEC §9, GET /api/webhooks); its secret is never returned. */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  phoneNumberIds: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed' | 'gone';

/** One attempt in a subscription's delivery log (GET /api/webhooks/{id}/deliveries). */
export interface Delivery {
  id: string;
  eventId: string;
  type: string;
  attempt: number;
  status: number | null;
  error: string | null;
  latencyMs: number;
  outcome: DeliveryOutcome;
  at: string;
}

const KEY_STORAGE = 'inbox-autopilot.api-key';

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

export async function request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (accept === 'text/csv' && response.ok) return (await response.text()) as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: ApiErrorDetail[] } } | null)?.error;
    const retry = Number(response.headers.get('retry-after'));
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `${response.status} ${response.statusText}`,
      error?.details ?? [],
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** Normalises the session answer, whatever exact shape the server gives it. */
export function toPrincipal(raw: unknown): Principal {
  const r = (raw ?? {}) as Record<string, unknown>;
  const inner = (r.user ?? r.key ?? r.principal ?? r) as Record<string, unknown>;
  const kind = r.kind === 'key' || r.key !== undefined ? 'key' : 'user';
  const login = String(inner.login ?? inner.name ?? inner.id ?? 'unknown');
  const role = (inner.role as Role | undefined) ?? 'agent';
  const agentId = (inner.agentId as string | null | undefined) ?? (kind === 'user' && role === 'agent' ? login : null);
  return { kind, login, name: (inner.name as string | null | undefined) ?? null, role, agentId };
}

export function contactLabel(c: Conversation): string {
  const contact = c.contact;
  if (!contact) return `Contact ${c.contactId.slice(0, 8)}`;
  return contact.name || contact.waId || contact.userId || `Contact ${contact.id.slice(0, 8)}`;
}

export function contactSecondary(c: Conversation): string | null {
  const contact = c.contact;
  if (!contact) return null;
  const id = contact.waId ? `+${contact.waId}` : contact.userId;
  return contact.name ? id : contact.waId && contact.userId ? contact.userId : null;
}

export function isInbound(m: Message): boolean {
  return m.direction === 'in' || m.direction === 'inbound';
}

/** A time as people read it; `precise` adds seconds (timers and the timeline, where they matter). */
export function formatTime(iso: string | null | undefined, precise = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(precise ? { second: '2-digit' } : {}) })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: precise ? 'medium' : 'short' });
}
