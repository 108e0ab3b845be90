/**
 * Live updates (SPEC §8): one EventSource on GET /api/events/stream for the whole app.
 * Every event just tells the pages to refetch what they show; when the stream is not
 * available (no session endpoint, an older server), the pages poll every few seconds.
 */
import { useEffect, useRef, useState } from 'react';
import { apiKey } from './api';

type Listener = (event: { type: string; data: unknown }) => void;

const listeners = new Set<Listener>();
let source: EventSource | null = null;
let mode: 'connecting' | 'live' | 'polling' = 'connecting';
const modeListeners = new Set<(m: typeof mode) => void>();

function setMode(next: typeof mode) {
  mode = next;
  for (const l of modeListeners) l(next);
}

function emit(type: string, raw: string) {
  let data: unknown = raw;
  try {
    data = JSON.parse(raw);
  } catch {
    /* plain text */
  }
  for (const l of listeners) l({ type, data });
}

const EVENT_TYPES = [
  'conversation',
  'conversation.opened',
  'conversation.created',
  'conversation.status',
  'conversation.routed',
  'conversation.updated',
  'conversation.reassigned',
  'conversation.closed',
  'conversation.claimed',
  'conversation.assigned',
  'message',
  'message.received',
  'message.sent',
  'message.status',
  'automation.skipped',
  'queue',
  'queue.changed',
  'agent',
  'agent.status',
  'csat.answered',
  'timeline',
];

export function startLive(): void {
  if (source || typeof EventSource === 'undefined' || apiKey()) {
    if (!source) setMode('polling');
    return;
  }
  let opened = false;
  source = new EventSource('/api/events/stream', { withCredentials: true });
  source.onopen = () => {
    opened = true;
    setMode('live');
  };
  source.onmessage = (e) => emit('message', e.data as string);
  for (const type of EVENT_TYPES) source.addEventListener(type, (e) => emit(type, (e as MessageEvent).data as string));
  source.onerror = () => {
    if (!opened) {
      // No stream on this server (404, 401…): poll instead of retrying forever.
      source?.close();
      source = null;
      setMode('polling');
    } else {
      setMode('connecting');
    }
  };
}

export function stopLive(): void {
  source?.close();
  source = null;
  setMode('connecting');
}

export function useLiveMode() {
  const [m, setM] = useState(mode);
  useEffect(() => {
    modeListeners.add(setM);
    return () => {
      modeListeners.delete(setM);
    };
  }, []);
  return m;
}

/** Calls `refresh` on every live event, or every `pollMs` while live updates are unavailable. */
export function useLiveRefresh(refresh: () => void, pollMs = 3000): void {
  const ref = useRef(refresh);
  ref.current = refresh;
  const m = useLiveMode();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const listener: Listener = () => {
      // Coalesce bursts (a message and its routing) into one refetch.
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        ref.current();
      }, 30);
    };
    listeners.add(listener);
    const poll = m === 'live' ? null : setInterval(() => ref.current(), pollMs);
    return () => {
      listeners.delete(listener);
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
    };
  }, [m, pollMs]);
}
