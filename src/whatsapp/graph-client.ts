/**
 * The few Cloud API calls we make, with Meta's errors classified by Graph `error.code`
 * (SPEC §5): Meta says to branch on the code, never on HTTP status or titles.
 */
import { envSchema, REQUEST_TIMEOUT_RANGE, type WhatsAppSettings } from '../config';

export type GraphErrorClass = 'rate_limited' | 'transient' | 'final';

const RATE_LIMIT_CODES = new Set([130429, 131056, 4, 17, 80007, 613]);
const TRANSIENT_CODES = new Set([1, 2, 131000, 131016, 133004, 131057]);

export function classifyGraphErrorCode(code: number | null): GraphErrorClass {
  if (code === null) return 'transient';
  if (RATE_LIMIT_CODES.has(code)) return 'rate_limited';
  if (TRANSIENT_CODES.has(code)) return 'transient';
  return 'final';
}

export class GraphApiError extends Error {
  readonly errorClass: GraphErrorClass;
  constructor(
    message: string,
    readonly code: number | null,
    readonly httpStatus: number | null,
    readonly details: string | null,
  ) {
    super(message);
    this.name = 'GraphApiError';
    this.errorClass = classifyGraphErrorCode(code);
  }

  get retryable(): boolean {
    return this.errorClass !== 'final';
  }

  /** 190 and the 0/3/10/200–299 family: credentials are broken, say so loudly. */
  get isTokenProblem(): boolean {
    return (
      this.code === 190 || this.code === 0 || this.code === 3 || this.code === 10 || (this.code !== null && this.code >= 200 && this.code <= 299)
    );
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, details: this.details, httpStatus: this.httpStatus };
  }
}

export type Recipient = { waId: string | null; userId: string | null };

export interface GraphClient {
  sendMessage(phoneNumberId: string, to: Recipient, content: Record<string, unknown>): Promise<{ wamid: string }>;
  setIceBreakers(phoneNumberId: string, prompts: string[]): Promise<void>;
}

/**
 * How long one Cloud API call may take, connection to last byte of the answer. A call that
 * times out is a transient error: the send activity retries it (workflows/activity-profiles.ts
 * `whatsapp`), and the conversation's later messages wait behind it. Meta may have accepted
 * a call that timed out, and it has no idempotency key, so the retry can deliver the message
 * twice: README, "When Meta does not answer".
 */
export const GRAPH_REQUEST_TIMEOUT_MS = 15_000;

/** `WHATSAPP_REQUEST_TIMEOUT_MS` overrides the time-out (src/config.ts, docs/CONFIGURATION.md). */
const TIMEOUT_VARIABLE = 'WHATSAPP_REQUEST_TIMEOUT_MS';

export interface GraphClientOptions {
  /** Default: the settings' requestTimeoutMs, else WHATSAPP_REQUEST_TIMEOUT_MS of process.env, else GRAPH_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** The time-out from the environment; a value that is not a whole number of ms from 100 to 55 000 stops the start, naming the variable. */
export function graphRequestTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  // Validated by the configuration schema (the send activity's start-to-close timeout is
  // 60 s, and pacing may take a few of them).
  const parsed = envSchema.shape[TIMEOUT_VARIABLE].safeParse(env[TIMEOUT_VARIABLE]);
  if (!parsed.success) throw new Error(`${TIMEOUT_VARIABLE}: ${REQUEST_TIMEOUT_RANGE} (got "${env[TIMEOUT_VARIABLE]?.trim()}")`);
  return parsed.data ?? GRAPH_REQUEST_TIMEOUT_MS;
}

export function createGraphClient(settings: WhatsAppSettings, fetchImpl: typeof fetch = fetch, options: GraphClientOptions = {}): GraphClient {
  const timeoutMs = options.timeoutMs ?? settings.requestTimeoutMs ?? graphRequestTimeoutFromEnv();
  const url = (path: string) => `${settings.apiBaseUrl}/${settings.apiVersion}/${path}`;

  async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
    // One signal for the whole exchange: a server that sends headers and then stalls the body times out too.
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url(path), {
        method: 'POST',
        headers: { authorization: `Bearer ${settings.accessToken ?? ''}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (cause) {
      // Network failures and time-outs are ambiguous (Meta may have accepted the message)
      // but retrying is the only way forward.
      const reason = signal.aborted ? `no answer within ${timeoutMs} ms` : (cause as Error).message;
      throw new GraphApiError(`Graph API unreachable: ${reason}`, null, null, null);
    }
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = {};
    }
    if (!response.ok || json.error) {
      const error = (json.error ?? {}) as { message?: string; code?: number; error_data?: { details?: string } };
      const code = typeof error.code === 'number' ? error.code : null;
      throw new GraphApiError(
        error.message ?? `Graph API answered HTTP ${response.status}`,
        code,
        response.status,
        error.error_data?.details ?? null,
      );
    }
    return json;
  }

  return {
    async sendMessage(phoneNumberId, to, content) {
      // `to` wins over `recipient` at Meta; the BSUID is used only when no phone is known.
      const address = to.waId ? { to: `+${to.waId.replace(/^\+/, '')}` } : { recipient: to.userId };
      const json = await post(`${encodeURIComponent(phoneNumberId)}/messages`, {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        ...address,
        ...content,
      });
      const wamid = (json.messages as { id?: string }[] | undefined)?.[0]?.id;
      if (!wamid) throw new GraphApiError('Graph API accepted the message but returned no message id', null, 200, null);
      return { wamid };
    },
    async setIceBreakers(phoneNumberId, prompts) {
      await post(`${encodeURIComponent(phoneNumberId)}/conversational_automation`, { prompts });
    },
  };
}
