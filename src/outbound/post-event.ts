/**
 * One delivery attempt (SPEC §9): `POST {"id","type","occurredAt","data"}`, signed, with a
 * 10 s timeout, following no redirect (a 3xx is a failed attempt, see subscription-url.ts).
 */
import { DELIVERY_TIMEOUT_MS } from './retry-policy';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signEvent, TIMESTAMP_HEADER } from './signature';

export interface OutboundEvent {
  id: string;
  type: string;
  occurredAt: Date;
  data: Record<string, unknown>;
}

export interface PostResult {
  /** null: no HTTP answer (see error). */
  httpStatus: number | null;
  error: string | null;
  latencyMs: number;
}

/** The body exactly as sent (and signed). */
export function eventBody(event: OutboundEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), data: event.data });
}

export async function postEvent(url: string, secret: string, event: OutboundEvent, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<PostResult> {
  const body = eventBody(event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'InboxAutopilot-Events/1',
        [EVENT_ID_HEADER]: event.id,
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signEvent(secret, timestamp, body),
      },
      body,
    });
    // The answer's body is not used; reading it frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    const redirected = response.status >= 300 && response.status < 400;
    return {
      httpStatus: response.status,
      error: ok ? null : redirected ? `redirect not followed (${response.headers.get('location') ?? 'no location'})` : `HTTP ${response.status}`,
      latencyMs: latency(),
    };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { httpStatus: null, error: reason, latencyMs: latency() };
  }
}
