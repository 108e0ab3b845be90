/**
 * Where events may be sent (SPEC §9): https, or http to this machine (loopback) or when
 * ALLOW_HTTP_WEBHOOKS is set. No credentials in the URL (they would be logged and shown).
 * Delivery follows no redirect at all (src/outbound/post-event.ts), so a subscriber cannot
 * point the service at another host after the admin approved this one.
 */
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Why `raw` may not be a subscription URL, or null when it may. */
export function subscriptionUrlProblem(raw: string, allowHttp: boolean): string | null {
  if (raw.length > 2048) return 'must be at most 2048 characters';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (url.protocol === 'http:' && !allowHttp && !isLoopbackHost(url.hostname)) {
    return 'must be https (http only to localhost/127.0.0.1, or with ALLOW_HTTP_WEBHOOKS=true)';
  }
  return null;
}
