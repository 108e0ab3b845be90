/**
 * The one validator for outbound message content (SPEC §3, §4; WHATSAPP.md §2, §7).
 *
 * Content is stored and sent in the Cloud API message shape minus `messaging_product`
 * and `to`, so whatever passes here can be sent as-is. It runs on save (settings API,
 * agent and bot replies) and again before the send activity calls Meta: a bad message
 * should fail where a person can fix it, not as a Graph error #100 hours later.
 *
 * Where Meta's documentation is vague we pick the stricter reading (UTF-16 lengths,
 * https only, unique row ids, empty optional strings rejected): a false rejection costs
 * an edit in the UI, a false acceptance costs a message the customer never receives.
 */
import { z } from 'zod';

export type FieldIssue = { field: string; message: string };

// ---------------------------------------------------------------------------
// Error wording. Zod's defaults ("Too big: expected string to have <=20 characters")
// are written for developers; these messages reach the people editing templates.
// ---------------------------------------------------------------------------

type IssueInput = { input?: unknown };

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** A value that, once shown inside a message, stays short enough to read. */
function quote(value: unknown, max = 40): string {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const chars = Array.from(s);
  return JSON.stringify(chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s);
}

function expected(what: string) {
  return (iss: IssueInput) => (iss.input === undefined ? 'is required' : `must be ${what} (got ${describeValue(iss.input)})`);
}

/**
 * A string measured in UTF-16 code units (JS `length`). Meta doesn't say whether its
 * limits count code units or code points; code units are never fewer, so this can only
 * err on the safe side (an emoji counts as 2). Not zod's `.min()`/`.max()`: this zod
 * version measures strings in code points, which would let 4096 units of emoji through
 * as 2048.
 */
function chars(min: number, max: number) {
  const limit = min === max ? `exactly ${max}` : `${min}–${max}`;
  return z.string({ error: expected('text') }).superRefine((value, ctx) => {
    const n = value.length;
    if (n >= min && n <= max) return;
    const message = `must be ${limit} characters (got ${n})`;
    if (n < min) ctx.addIssue({ code: 'too_small', origin: 'string', minimum: min, inclusive: true, input: value, message });
    else ctx.addIssue({ code: 'too_big', origin: 'string', maximum: max, inclusive: true, input: value, message });
  });
}

/** Objects reject unknown keys so that a typo (`capton`) fails instead of being dropped silently. */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field (allowed here: ${allowed})` : expected('an object')(iss)),
  });
}

function literal<T extends string>(value: T) {
  return z.literal(value, {
    error: (iss) => (iss.input === undefined ? `is required (must be "${value}")` : `must be "${value}" (got ${quote(iss.input)})`),
  });
}

/** Error for a discriminated union whose `type` (or other tag) matched no option. */
function unknownTag(what: string) {
  return (iss: z.core.$ZodRawIssue) => {
    if (iss.code !== 'invalid_union' || !('discriminator' in iss)) return expected('an object')(iss);
    const options = (iss.options as unknown[] | undefined) ?? [];
    const tag = iss.discriminator as string;
    const given = (iss.input as Record<string, unknown> | undefined)?.[tag];
    const list = options.map((o) => `"${String(o)}"`).join(', ');
    return given === undefined ? `is required: the ${what} type, one of ${list}` : `must be one of ${list} (got ${quote(given)})`;
  };
}

/**
 * An array whose size limits are reported on the first element past the maximum
 * (`buttons[3]: at most 3 buttons`), so a UI can highlight the item to remove. The check
 * runs even when elements themselves are invalid, so every problem shows up in one pass.
 */
function listOf<T extends z.ZodType>(item: T, min: number, max: number, singular: string, plural: string) {
  return z.array(item, { error: expected('a list') }).superRefine(
    (items, ctx) => {
      const n = items.length;
      if (n < min) {
        const message =
          max === Infinity ? `must have at least ${min} ${min === 1 ? singular : plural} (got ${n})` : `must have ${min}–${max} ${plural} (got ${n})`;
        ctx.addIssue({ code: 'too_small', origin: 'array', minimum: min, inclusive: true, input: items, message });
      } else if (n > max) {
        ctx.addIssue({
          code: 'too_big',
          origin: 'array',
          maximum: max,
          inclusive: true,
          input: items,
          path: [max],
          message: `at most ${max} ${max === 1 ? singular : plural} (got ${n})`,
        });
      }
    },
    { when: (payload) => Array.isArray(payload.value) },
  );
}

function occurrences(n: number): string {
  return n === 2 ? 'twice' : `${n} times`;
}

/**
 * Flags every repeat after the first, at the repeat's own path, so the UI marks the
 * item that has to change rather than the whole list.
 */
function requireUnique(ctx: z.core.$RefinementCtx<unknown>, entries: Array<{ value: string; path: PropertyKey[] }>, scope: string): void {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.value, (counts.get(e.value) ?? 0) + 1);
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.value)) {
      ctx.addIssue({
        code: 'custom',
        path: e.path,
        input: e.value,
        message: `must be unique${scope} (${quote(e.value)} appears ${occurrences(counts.get(e.value) ?? 2)})`,
      });
    }
    seen.add(e.value);
  }
}

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

/**
 * Meta fetches `link` media itself and states no scheme rule; we only accept absolute
 * https URLs so we never hand Meta a plain-http or relative address (WHATSAPP.md §7).
 */
export function isAbsoluteHttpsUrl(value: string): boolean {
  // The WHATWG parser quietly trims and percent-encodes whitespace; a URL that needed
  // that is almost certainly a paste error, so refuse it instead of "fixing" it.
  if (/\s/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.hostname !== '' && /^https:\/\/[^/]/i.test(value);
}

const httpsUrl = z
  .string({ error: expected('a URL') })
  .min(1, { error: 'must be an absolute https URL (got an empty string)' })
  .refine(isAbsoluteHttpsUrl, {
    error: (iss) => `must be an absolute https URL (got ${quote(iss.input, 60)})`,
  });

const mediaId = z
  .string({ error: expected('a media id') })
  .min(1, { error: 'must not be empty' })
  .regex(/^\S+$/, { error: 'must not contain spaces' });

/** Meta resolves media either from an upload (`id`) or by fetching (`link`); with both or neither it errors. */
function exactlyOneSource(media: { id?: string; link?: string }, ctx: z.core.$RefinementCtx<unknown>): void {
  const hasId = media.id !== undefined;
  const hasLink = media.link !== undefined;
  if (hasId === hasLink) {
    ctx.addIssue({
      code: 'custom',
      input: media,
      message: `exactly one of id or link is required (got ${hasId ? 'both' : 'neither'})`,
    });
  }
}

const captionText = chars(1, 1024);
const filenameText = chars(1, 240);

const imageMedia = strict({ id: mediaId.optional(), link: httpsUrl.optional(), caption: captionText.optional() }).superRefine(exactlyOneSource);
const videoMedia = strict({ id: mediaId.optional(), link: httpsUrl.optional(), caption: captionText.optional() }).superRefine(exactlyOneSource);
const documentMedia = strict({
  id: mediaId.optional(),
  link: httpsUrl.optional(),
  caption: captionText.optional(),
  filename: filenameText.optional(),
}).superRefine(exactlyOneSource);

// Header media take no caption (whatsapp-api-js rejects it; Meta ignores it at best).
const headerImageMedia = strict({ id: mediaId.optional(), link: httpsUrl.optional() }).superRefine(exactlyOneSource);
const headerVideoMedia = strict({ id: mediaId.optional(), link: httpsUrl.optional() }).superRefine(exactlyOneSource);
const headerDocumentMedia = strict({
  id: mediaId.optional(),
  link: httpsUrl.optional(),
  filename: filenameText.optional(),
}).superRefine(exactlyOneSource);

const textHeader = strict({ type: literal('text'), text: chars(1, 60) });

/** Button and cta_url messages may lead with text or media. */
const interactiveHeader = z.discriminatedUnion(
  'type',
  [
    textHeader,
    strict({ type: literal('image'), image: headerImageMedia }),
    strict({ type: literal('video'), video: headerVideoMedia }),
    strict({ type: literal('document'), document: headerDocumentMedia }),
  ],
  { error: unknownTag('header') },
);

/** Lists only render a text header (WHATSAPP.md §2.4); say so rather than "invalid option". */
const listHeader = z.discriminatedUnion('type', [textHeader], {
  error: (iss) => {
    if (iss.code !== 'invalid_union') return expected('an object')(iss);
    const given = (iss.input as Record<string, unknown> | undefined)?.type;
    return given === undefined
      ? 'is required: a list header must be {"type":"text","text":…}'
      : `a list header must be plain text (type "text"); ${quote(given)} headers are only allowed on button and cta_url messages`;
  },
});

const footer = strict({ text: chars(1, 60) });

// ---------------------------------------------------------------------------
// Interactive messages
// ---------------------------------------------------------------------------

const replyButton = strict({
  type: literal('reply'),
  reply: strict({ id: chars(1, 256), title: chars(1, 20) }),
});

const buttonInteractive = strict({
  type: literal('button'),
  header: interactiveHeader.optional(),
  body: strict({ text: chars(1, 1024) }),
  footer: footer.optional(),
  action: strict({
    // Customers tap a title and we route on the id, so a repeat of either is ambiguous.
    buttons: listOf(replyButton, 1, 3, 'button', 'buttons').superRefine((buttons, ctx) => {
      requireUnique(
        ctx,
        buttons.map((b, i) => ({ value: b.reply.title, path: [i, 'reply', 'title'] })),
        '',
      );
      requireUnique(
        ctx,
        buttons.map((b, i) => ({ value: b.reply.id, path: [i, 'reply', 'id'] })),
        '',
      );
    }),
  }),
});

const ctaUrlInteractive = strict({
  type: literal('cta_url'),
  header: interactiveHeader.optional(),
  body: strict({ text: chars(1, 1024) }),
  footer: footer.optional(),
  action: strict({
    name: literal('cta_url'),
    parameters: strict({ display_text: chars(1, 20), url: httpsUrl }),
  }),
});

const listRow = strict({ id: chars(1, 200), title: chars(1, 24), description: chars(1, 72).optional() });

const listSection = strict({
  title: chars(1, 24).optional(),
  rows: listOf(listRow, 1, Infinity, 'row', 'rows'),
});

const MAX_LIST_ROWS = 10;

const listInteractive = strict({
  type: literal('list'),
  header: listHeader.optional(),
  body: strict({ text: chars(1, 4096) }),
  footer: footer.optional(),
  action: strict({
    button: chars(1, 20),
    sections: listOf(listSection, 1, 10, 'section', 'sections')
      // WhatsApp caps rows across the whole list, not per section: point at the first
      // row over the cap, wherever it falls. Runs even if some rows are malformed.
      .superRefine(
        (sections, ctx) => {
          const total = sections.reduce((n, s) => n + (Array.isArray(s?.rows) ? s.rows.length : 0), 0);
          if (total <= MAX_LIST_ROWS) return;
          let seen = 0;
          for (const [si, section] of sections.entries()) {
            const rows = Array.isArray(section?.rows) ? section.rows.length : 0;
            if (seen + rows > MAX_LIST_ROWS) {
              ctx.addIssue({
                code: 'too_big',
                origin: 'array',
                maximum: MAX_LIST_ROWS,
                inclusive: true,
                input: sections,
                path: [si, 'rows', MAX_LIST_ROWS - seen],
                message: `at most ${MAX_LIST_ROWS} rows in total across all sections (got ${total})`,
              });
              return;
            }
            seen += rows;
          }
        },
        { when: (payload) => Array.isArray(payload.value) },
      )
      .superRefine((sections, ctx) => {
        // With one section the picker needs no heading; with several, untitled ones are
        // indistinguishable, and older API versions reject them.
        if (sections.length > 1) {
          sections.forEach((s, i) => {
            if (s.title === undefined) {
              ctx.addIssue({
                code: 'custom',
                path: [i, 'title'],
                input: s,
                message: `is required when the list has more than one section (this list has ${sections.length})`,
              });
            }
          });
        }
        // The reply carries only the row id, so ids must identify a row across the whole list.
        requireUnique(
          ctx,
          sections.flatMap((s, si) => s.rows.map((r, ri) => ({ value: r.id, path: [si, 'rows', ri, 'id'] }))),
          ' across the list',
        );
      }),
  }),
});

const interactiveObject = z.discriminatedUnion('type', [buttonInteractive, ctaUrlInteractive, listInteractive], {
  error: unknownTag('interactive message'),
});

// ---------------------------------------------------------------------------
// The message
// ---------------------------------------------------------------------------

export const messageContentSchema = z.discriminatedUnion(
  'type',
  [
    strict({
      type: literal('text'),
      text: strict({ body: chars(1, 4096), preview_url: z.boolean({ error: expected('true or false') }).optional() }),
    }),
    strict({ type: literal('image'), image: imageMedia }),
    strict({ type: literal('video'), video: videoMedia }),
    strict({ type: literal('document'), document: documentMedia }),
    strict({ type: literal('interactive'), interactive: interactiveObject }),
  ],
  { error: unknownTag('message') },
);

export type MessageContent = z.infer<typeof messageContentSchema>;

// ---------------------------------------------------------------------------
// Templates (SPEC §4, R16): agent and bot replies may be templates, inside or outside
// the customer-service window. Templates are Meta's (approved in WhatsApp Manager); the
// service sends them by name and reports Meta's errors for unknown or unapproved ones.
// ---------------------------------------------------------------------------

export const templateNameSchema = z
  .string({ error: expected('text') })
  .regex(/^[a-z0-9_]{1,512}$/, { error: (iss) => `must be 1–512 of a-z, 0-9 and _ (got ${quote(iss.input)})` });
export const languageCodeSchema = z
  .string({ error: expected('text') })
  .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, { error: (iss) => `must be a language code like "en" or "pt_BR" (got ${quote(iss.input)})` });

const textParameter = strict({ type: literal('text'), text: chars(1, 1024) });
const payloadParameter = strict({ type: literal('payload'), payload: chars(1, 256) });
const templateMedia = strict({ link: httpsUrl });
const headerParameter = z.discriminatedUnion(
  'type',
  [
    textParameter,
    strict({ type: literal('image'), image: templateMedia }),
    strict({ type: literal('video'), video: templateMedia }),
    strict({ type: literal('document'), document: templateMedia }),
  ],
  { error: unknownTag('header parameter') },
);
const templateComponent = z.discriminatedUnion(
  'type',
  [
    strict({ type: literal('header'), parameters: listOf(headerParameter, 1, 1, 'parameter', 'parameters') }),
    strict({ type: literal('body'), parameters: listOf(textParameter, 1, 100, 'parameter', 'parameters') }),
    strict({
      type: literal('button'),
      sub_type: z.enum(['quick_reply', 'url'], { error: (iss) => `must be "quick_reply" or "url" (got ${quote(iss.input)})` }),
      index: z.string({ error: expected('text') }).regex(/^[0-9]$/, { error: (iss) => `must be "0"–"9" (got ${quote(iss.input)})` }),
      parameters: listOf(
        z.union([payloadParameter, textParameter], { error: () => 'must be a payload or text parameter' }),
        1,
        1,
        'parameter',
        'parameters',
      ),
    }),
  ],
  { error: unknownTag('template component') },
);

export const templateMessageSchema = strict({
  type: literal('template'),
  template: strict({
    name: templateNameSchema,
    language: strict({ code: languageCodeSchema }),
    components: listOf(templateComponent, 0, 10, 'component', 'components').optional(),
  }),
});

/** What an agent or a bot may send: any message content, or a template. */
export const replyContentSchema = z.discriminatedUnion('type', [...messageContentSchema.options, templateMessageSchema], {
  error: unknownTag('message'),
});

export type ReplyContent = z.infer<typeof replyContentSchema>;

/** Whether WhatsApp treats the message as a template (the only kind allowed outside the window). */
export function isTemplate(content: { type: string }): boolean {
  return content.type === 'template';
}

// ---------------------------------------------------------------------------
// Ice breakers (conversational components, WHATSAPP.md §4)
// ---------------------------------------------------------------------------

/**
 * Symbols that are Extended_Pictographic but render as text by default (©, ®, ™, ‼, ⁉,
 * ℹ, ↔…↙, ↩, ↪). Alone they are ordinary typography, so they are allowed unless a U+FE0F
 * turns them into emoji, which the U+FE0F alternative below catches.
 */
const TEXT_STYLE_PICTOGRAPHS = '\\u00A9\\u00AE\\u203C\\u2049\\u2122\\u2139\\u2194-\\u2199\\u21A9\\u21AA';

/**
 * Emoji in any of their forms: pictographs (😀, ❤, 📦), flags (regional-indicator pairs,
 * tag sequences start with 🏴 which is a pictograph), skin-tone modifiers, the emoji
 * variation selector U+FE0F (❤️, ©️) and the keycap mark U+20E3 (1️⃣, #️⃣). Bare digits, '#'
 * and '*' are not emoji on their own.
 */
const EMOJI = new RegExp(
  `(?![${TEXT_STYLE_PICTOGRAPHS}])\\p{Extended_Pictographic}|\\p{Regional_Indicator}|\\p{Emoji_Modifier}|[\\uFE0F\\u20E3]`,
  'u',
);

export function containsEmoji(text: string): boolean {
  return EMOJI.test(text);
}

/** The first whole emoji (flag pair, keycap, ZWJ sequence) in `text`, for the error message. */
function firstEmoji(text: string): string | undefined {
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    if (EMOJI.test(segment)) return segment;
  }
  return undefined;
}

const iceBreakerPrompt = chars(1, 80).refine((p) => !containsEmoji(p), {
  // Meta rejects emoji in prompts (WHATSAPP.md §4); quote the prompt so the admin can find it.
  error: (iss) => {
    const prompt = String(iss.input);
    return `must not contain emoji (${quote(prompt, 80)} contains ${firstEmoji(prompt) ?? 'an emoji'})`;
  },
});

export const iceBreakerPromptsSchema = listOf(iceBreakerPrompt, 0, 4, 'prompt', 'prompts');

// ---------------------------------------------------------------------------
// Issue reporting
// ---------------------------------------------------------------------------

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/**
 * Turns a ZodError into `{field, message}` pairs with full paths
 * (`message.interactive.action.buttons[3]`). Unknown keys are reported one per key at the
 * key's own path, which is where a UI or a human looks for the typo.
 */
export function zodIssuesToFieldIssues(error: z.ZodError, fieldPrefix: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  const seen = new Set<string>();
  const push = (field: string, message: string) => {
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ field, message });
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // Zod's default wording lists every key in one sentence; per key it would read wrong.
      const message = /^Unrecognized key/.test(issue.message) ? 'unknown field' : issue.message;
      for (const key of issue.keys) push(formatPath(fieldPrefix, [...issue.path, key]), message);
    } else {
      push(formatPath(fieldPrefix, issue.path), issue.message);
    }
  }
  return out;
}

export function validateMessageContent(
  value: unknown,
  fieldPrefix = 'message',
): { ok: true; value: MessageContent } | { ok: false; issues: FieldIssue[] } {
  const result = messageContentSchema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: zodIssuesToFieldIssues(result.error, fieldPrefix) };
}

/** As validateMessageContent, for agent and bot replies, which may also be templates. */
export function validateReplyContent(
  value: unknown,
  fieldPrefix = 'message',
): { ok: true; value: ReplyContent } | { ok: false; issues: FieldIssue[] } {
  const result = replyContentSchema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: zodIssuesToFieldIssues(result.error, fieldPrefix) };
}

// ---------------------------------------------------------------------------
// Preview
// ---------------------------------------------------------------------------

/**
 * A one-line preview for logs and conversation lists: the text body, `[image] caption`,
 * or an interactive message's body text. Whitespace is collapsed and long text cut at
 * `maxLength` code points (never inside a surrogate pair).
 */
export function describeMessageContent(content: ReplyContent, maxLength = 160): string {
  let preview: string;
  switch (content.type) {
    case 'text':
      preview = content.text.body;
      break;
    case 'image':
      preview = withLabel('[image]', content.image.caption);
      break;
    case 'video':
      preview = withLabel('[video]', content.video.caption);
      break;
    case 'document':
      preview = withLabel('[document]', content.document.caption ?? content.document.filename);
      break;
    case 'interactive':
      preview = content.interactive.body.text;
      break;
    case 'template':
      preview = `[template ${content.template.name}]`;
      break;
  }
  const oneLine = preview.replace(/\s+/g, ' ').trim();
  const cps = Array.from(oneLine);
  return cps.length > maxLength ? `${cps.slice(0, Math.max(0, maxLength - 1)).join('')}…` : oneLine;
}

function withLabel(label: string, text: string | undefined): string {
  return text === undefined || text.trim() === '' ? label : `${label} ${text}`;
}

/** R15: the placeholders a queue message may contain, filled at the moment of sending. */
export const QUEUE_PLACEHOLDERS = ['{{position}}', '{{ahead}}'] as const;

/** Whether any text the customer reads in `content` holds a queue placeholder. */
export function hasQueuePlaceholders(content: unknown): boolean {
  const json = JSON.stringify(content);
  return QUEUE_PLACEHOLDERS.some((p) => json.includes(p));
}

/**
 * The content with `{{position}}` (1-based) and `{{ahead}}` (people ahead) filled in every
 * string it holds (text body, caption, interactive header/body/footer…). Ids and URLs do
 * not contain braces, so only the words meant for the customer change.
 */
export function fillQueuePlaceholders<T>(content: T, queue: { position: number; ahead: number }): T {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replaceAll('{{position}}', String(queue.position)).replaceAll('{{ahead}}', String(queue.ahead));
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(content) as T;
}
