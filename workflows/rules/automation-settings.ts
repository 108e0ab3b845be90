/**
 * Per-number automation settings (SPEC §6), as the rules read them. Plain JSON so they
 * travel in signals and survive continue-as-new. Validation lives with the HTTP API
 * (src/automation/settings-schema.ts); this file only states the shape and defaults.
 */

import type { BusinessHours } from './business-hours';
import type { OutboundMessageContent, RoutingMode } from './vocabulary';

export type { OutboundMessageContent };

export interface AutomationSettings {
  routing: { mode: RoutingMode; preferLastAgent: boolean };
  welcome: { enabled: boolean; message: OutboundMessageContent };
  iceBreakers: { enabled: boolean; prompts: string[] };
  unassignedReply: { enabled: boolean; delaySeconds: number; message: OutboundMessageContent };
  /**
   * R5, and R15: `{{position}}` and `{{ahead}}` in either message are filled when it is sent;
   * `positionUpdates` tells a queued customer their better place at most once every P minutes.
   * Settings stored before R15 lack `positionUpdates` (read as off).
   */
  queueReply: {
    enabled: boolean;
    message: OutboundMessageContent;
    positionUpdates?: { enabled: boolean; everyMinutes: number; message: OutboundMessageContent };
  };
  reminder: { enabled: boolean; waitMinutes: number; message: OutboundMessageContent };
  autoClose: { enabled: boolean; afterMinutes: number };
  /**
   * R10 survey; `template` (R16) names an approved template sent instead when the window
   * has closed, its quick-reply buttons in order the scores 5, 4, 3, 2, 1.
   */
  csat: { enabled: boolean; body: string; buttonText: string; template?: { name: string; language: string } | null };
  /**
   * R14: outside these hours a customer waiting for a person gets `outOfOfficeMessage`
   * instead of the R4/R5 message, once per closed period; `pauseClocks` makes R7 count
   * business time only. Settings stored before R14 lack the block (read as off).
   */
  /**
   * R13: an assigned conversation whose customer has waited X minutes (measured as R7 does)
   * is taken from its agent and routed again; `onAgentOffline` does the same at once when
   * the agent goes offline. Settings stored before R13 lack the block (read as off).
   */
  reassign?: { enabled: boolean; afterMinutes: number; onAgentOffline: boolean };
  businessHours?: BusinessHours & { enabled: boolean; pauseClocks: boolean; outOfOfficeMessage: OutboundMessageContent };
}

const text = (body: string): OutboundMessageContent => ({ type: 'text', text: { body } });

/**
 * Defaults for a number nobody has configured yet: the customer is always told they were
 * heard (unassigned and queue replies on); rules that message customers later or end
 * conversations are opt-in.
 */
export const DEFAULT_AUTOMATION_SETTINGS: AutomationSettings = {
  routing: { mode: 'auto', preferLastAgent: true },
  welcome: { enabled: false, message: text('Hi! Thanks for contacting us. How can we help?') },
  iceBreakers: { enabled: false, prompts: [] },
  unassignedReply: {
    enabled: true,
    delaySeconds: 0,
    message: text('Thanks for your message! Our team is away right now; we will reply as soon as someone is available.'),
  },
  queueReply: {
    enabled: true,
    message: text('Thanks for your message! All our agents are busy; you are in the queue and will be served shortly.'),
    positionUpdates: { enabled: false, everyMinutes: 15, message: text('Thanks for waiting! You are now number {{position}} in the queue.') },
  },
  reminder: {
    enabled: false,
    waitMinutes: 5,
    message: text('Thanks for waiting! An agent will be with you in a moment.'),
  },
  autoClose: { enabled: false, afterMinutes: 1440 },
  csat: { enabled: false, body: 'How did we do? Please rate the help you received.', buttonText: 'Rate us', template: null },
  reassign: { enabled: false, afterMinutes: 15, onAgentOffline: false },
  businessHours: {
    enabled: false,
    timezone: 'UTC',
    pauseClocks: false,
    weekly: {
      mon: [['09:00', '17:00']],
      tue: [['09:00', '17:00']],
      wed: [['09:00', '17:00']],
      thu: [['09:00', '17:00']],
      fri: [['09:00', '17:00']],
      sat: [],
      sun: [],
    },
    closedDates: [],
    outOfOfficeMessage: text('Thanks for your message! We are closed right now; we will answer as soon as we open.'),
  },
};

/** Fills omitted blocks (and omitted fields of a block) with the defaults. */
export function withDefaults(
  partial: Partial<{ [K in keyof AutomationSettings]: Partial<AutomationSettings[K]> }> | null | undefined,
): AutomationSettings {
  const p = partial ?? {};
  const merged = {} as Record<string, unknown>;
  for (const key of Object.keys(DEFAULT_AUTOMATION_SETTINGS) as (keyof AutomationSettings)[]) {
    merged[key] = { ...DEFAULT_AUTOMATION_SETTINGS[key], ...(p[key] ?? {}) };
  }
  // The one nested block: its omitted fields take their defaults too.
  const queueReply = merged.queueReply as AutomationSettings['queueReply'];
  merged.queueReply = {
    ...queueReply,
    positionUpdates: { ...DEFAULT_AUTOMATION_SETTINGS.queueReply.positionUpdates!, ...(p.queueReply?.positionUpdates ?? {}) },
  };
  return merged as unknown as AutomationSettings;
}
