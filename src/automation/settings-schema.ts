/**
 * Validation of `PUT /api/numbers/{id}/automation` (SPEC §6). Every block and field is
 * optional and takes its default; unknown keys are rejected so typos surface. Message
 * content goes through the one content validator (SPEC §4).
 */
import { z } from 'zod';
import { iceBreakerPromptsSchema, languageCodeSchema, messageContentSchema, templateNameSchema } from '../whatsapp/message-content';
import { type AutomationSettings, DEFAULT_AUTOMATION_SETTINGS, withDefaults } from '../../workflows/rules/automation-settings';
import { businessHoursIssues, WEEKDAYS } from '../../workflows/rules/business-hours';
import { ROUTING_MODES } from '../../workflows/rules/vocabulary';

const int = (min: number, max: number, unit: string) =>
  z
    .number({ error: (iss) => (iss.input === undefined ? 'is required' : `must be a whole number of ${unit}`) })
    .int(`must be a whole number of ${unit}`)
    .min(min, `must be between ${min} and ${max} ${unit}`)
    .max(max, `must be between ${min} and ${max} ${unit}`);

/** UTF-16 length, like the content validator (Meta counts conservatively). */
const text = (min: number, max: number) =>
  z
    .string()
    .refine((s) => s.length >= min && s.length <= max, { error: (iss) => `must be ${min}–${max} characters (got ${String(iss.input).length})` });

/** `weekly.mon[1]` → ['weekly', 'mon', 1], so the API's details name the field as the user typed it. */
function fieldPath(field: string): (string | number)[] {
  return field
    .split(/\.|\[|\]/)
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** Weekdays left out of a schedule have no opening hours. */
function withEveryWeekday(weekly: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...WEEKDAYS.map((d) => [d, []]), ...Object.entries(weekly)]);
}

/**
 * R14. Weekdays left out of `weekly` have no opening hours; the calendar itself (zone,
 * HH:MM intervals, overlaps, dates) is checked by the same module the rules compute with.
 */
const businessHoursSchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    timezone: z.string().optional(),
    pauseClocks: z.boolean().optional(),
    weekly: z.record(z.string(), z.unknown()).optional(),
    closedDates: z.array(z.unknown()).optional(),
    outOfOfficeMessage: messageContentSchema.optional(),
  })
  .superRefine((block, ctx) => {
    const defaults = DEFAULT_AUTOMATION_SETTINGS.businessHours!;
    const calendar = {
      timezone: block.timezone ?? defaults.timezone,
      weekly: block.weekly ? withEveryWeekday(block.weekly) : defaults.weekly,
      closedDates: block.closedDates ?? defaults.closedDates,
    };
    for (const issue of businessHoursIssues(calendar)) ctx.addIssue({ code: 'custom', path: fieldPath(issue.field), message: issue.message });
  });

export const automationSettingsInputSchema = z.strictObject({
  routing: z.strictObject({ mode: z.enum(ROUTING_MODES).optional(), preferLastAgent: z.boolean().optional() }).optional(),
  welcome: z.strictObject({ enabled: z.boolean().optional(), message: messageContentSchema.optional() }).optional(),
  iceBreakers: z.strictObject({ enabled: z.boolean().optional(), prompts: iceBreakerPromptsSchema.optional() }).optional(),
  unassignedReply: z
    .strictObject({ enabled: z.boolean().optional(), delaySeconds: int(0, 600, 'seconds').optional(), message: messageContentSchema.optional() })
    .optional(),
  queueReply: z
    .strictObject({
      enabled: z.boolean().optional(),
      message: messageContentSchema.optional(),
      // R15: every P minutes (5–60) while queued, only when the place has improved.
      positionUpdates: z
        .strictObject({ enabled: z.boolean().optional(), everyMinutes: int(5, 60, 'minutes').optional(), message: messageContentSchema.optional() })
        .optional(),
    })
    .optional(),
  reminder: z
    .strictObject({ enabled: z.boolean().optional(), waitMinutes: int(1, 24 * 60, 'minutes').optional(), message: messageContentSchema.optional() })
    .optional(),
  autoClose: z.strictObject({ enabled: z.boolean().optional(), afterMinutes: int(1, 72 * 60, 'minutes').optional() }).optional(),
  // The survey is a list message: body up to 4096, button text up to 20 (SPEC §4).
  // R16: `template` (or null for none) is sent instead when the window has closed.
  csat: z
    .strictObject({
      enabled: z.boolean().optional(),
      body: text(1, 4096).optional(),
      buttonText: text(1, 20).optional(),
      template: z.strictObject({ name: templateNameSchema, language: languageCodeSchema }).nullable().optional(),
    })
    .optional(),
  // R13: X minutes (1 minute – 24 hours) without the assigned agent's reply.
  reassign: z
    .strictObject({ enabled: z.boolean().optional(), afterMinutes: int(1, 24 * 60, 'minutes').optional(), onAgentOffline: z.boolean().optional() })
    .optional(),
  businessHours: businessHoursSchema.optional(),
});

export type AutomationSettingsInput = z.infer<typeof automationSettingsInputSchema>;

export function settingsFromInput(input: AutomationSettingsInput): AutomationSettings {
  const settings = withDefaults(input as Parameters<typeof withDefaults>[0]);
  const hours = settings.businessHours;
  return hours ? { ...settings, businessHours: { ...hours, weekly: withEveryWeekday(hours.weekly) as typeof hours.weekly } } : settings;
}
