/**
 * Edits a message content object as the settings API stores it (SPEC §4): text, media by
 * link, and the three interactive kinds (reply buttons, a link button, a list), with the
 * server's field errors shown at their fields. Edits change only the part being edited, so
 * what the editor does not show (a header, a footer, extra list sections saved through the
 * API) is kept as it was.
 */
import { ActionIcon, Button, Group, SegmentedControl, Select, Stack, TextInput, Textarea } from '@mantine/core';
import type { MessageContent } from '../api';

type Kind = 'text' | 'media' | 'buttons' | 'link' | 'list';
type MediaType = 'image' | 'video' | 'document';
type Interactive = { type: string; body?: { text?: string }; action?: Record<string, unknown>; [key: string]: unknown };
type ReplyButton = { type: 'reply'; reply: { id: string; title: string } };
type ListRow = { id: string; title: string; description?: string };
type ListSection = { title?: string; rows: ListRow[] };

const MAX_BUTTONS = 3;
const MAX_LIST_ROWS = 10;

export function kindOf(m: MessageContent): Kind {
  if (m.type === 'interactive') {
    const type = (m as { interactive?: Interactive }).interactive?.type;
    return type === 'cta_url' ? 'link' : type === 'list' ? 'list' : 'buttons';
  }
  if (['image', 'video', 'document'].includes(m.type)) return 'media';
  return 'text';
}

function interactiveOf(m: MessageContent): Interactive {
  return ((m as { interactive?: Interactive }).interactive ?? { type: 'button' }) as Interactive;
}

function bodyOf(m: MessageContent): string {
  const c = m as Record<string, Record<string, unknown> | undefined>;
  if (m.type === 'text') return String(c.text?.body ?? '');
  if (m.type === 'interactive') return String(interactiveOf(m).body?.text ?? '');
  return String(c[m.type]?.caption ?? '');
}

/** A fresh message of kind `k` that keeps the body text. */
function blank(k: Kind, body: string): MessageContent {
  switch (k) {
    case 'text':
      return { type: 'text', text: { body } };
    case 'media':
      return { type: 'image', image: { link: '', ...(body ? { caption: body } : {}) } };
    case 'buttons':
      return { type: 'interactive', interactive: { type: 'button', body: { text: body }, action: { buttons: [reply(1, '')] } } };
    case 'link':
      return {
        type: 'interactive',
        interactive: { type: 'cta_url', body: { text: body }, action: { name: 'cta_url', parameters: { display_text: '', url: '' } } },
      };
    case 'list':
      return {
        type: 'interactive',
        interactive: { type: 'list', body: { text: body }, action: { button: '', sections: [{ rows: [{ id: 'row1', title: '' }] }] } },
      };
  }
}

const reply = (n: number, title: string): ReplyButton => ({ type: 'reply', reply: { id: `b${n}`, title } });

/** Server fields arrive as `interactive.action.buttons[0].reply.title`; the editor matches them with dots. */
const dotted = (field: string) => field.replace(/\[(\d+)\]/g, '.$1');

/** `errors` maps a field path relative to this message (e.g. "text.body") to the server's message. */
export function MessageEditor(props: {
  label: string;
  value: MessageContent;
  onChange(m: MessageContent): void;
  errors: Record<string, string>;
  id: string;
}) {
  const { value, onChange } = props;
  const errors = Object.fromEntries(Object.entries(props.errors).map(([f, m]) => [dotted(f), m]));
  const kind = kindOf(value);
  const body = bodyOf(value);
  const interactive = interactiveOf(value);
  const action = (interactive.action ?? {}) as Record<string, unknown>;
  const mediaType: MediaType = kind === 'media' ? (value.type as MediaType) : 'image';
  const media = kind === 'media' ? ((value as Record<string, Record<string, unknown> | undefined>)[mediaType] ?? {}) : {};
  const shown = new Set<string>();
  const err = (prefix: string) => {
    const hits = Object.entries(errors).filter(([f]) => f === prefix || f.startsWith(`${prefix}.`));
    hits.forEach(([f]) => shown.add(f));
    return hits.map(([, m]) => m).join('; ') || undefined;
  };

  const withInteractive = (patch: Partial<Interactive>): MessageContent => ({ type: 'interactive', interactive: { ...interactive, ...patch } });
  const withAction = (patch: Record<string, unknown>) => onChange(withInteractive({ action: { ...action, ...patch } }));

  function setBody(text: string) {
    if (kind === 'text') onChange({ type: 'text', text: { ...((value as { text?: object }).text ?? {}), body: text } });
    else if (kind === 'media') {
      const { caption: _old, ...rest } = media as { caption?: string };
      onChange({ type: mediaType, [mediaType]: { ...rest, ...(text ? { caption: text } : {}) } });
    } else onChange(withInteractive({ body: { text } }));
  }

  const bodyField = kind === 'text' ? 'text.body' : kind === 'media' ? `${mediaType}.caption` : 'interactive.body';
  const bodyError = err(bodyField) ?? (kind === 'text' ? err('text') : undefined);

  let specific: React.ReactNode = null;
  if (kind === 'media') {
    specific = (
      <Group gap="xs" grow align="flex-start">
        <Select
          label="Media type"
          size="xs"
          value={mediaType}
          data={['image', 'video', 'document']}
          allowDeselect={false}
          onChange={(v) => v && onChange({ type: v, [v]: media })}
        />
        <TextInput
          label="Link (https)"
          size="xs"
          value={String(media.link ?? '')}
          onChange={(e) => onChange({ type: mediaType, [mediaType]: { ...media, link: e.currentTarget.value } })}
          error={err(`${mediaType}.link`) ?? err(mediaType)}
        />
      </Group>
    );
  } else if (kind === 'buttons') {
    const buttons = (action.buttons as ReplyButton[] | undefined) ?? [];
    const setButtons = (next: ReplyButton[]) => withAction({ buttons: next });
    specific = (
      <Stack gap={4}>
        {buttons.map((b, i) => (
          <Group key={i} gap={4} wrap="nowrap" align="flex-end">
            <TextInput
              size="xs"
              style={{ flex: 1 }}
              label={`Button ${i + 1}`}
              value={b.reply.title}
              error={err(`interactive.action.buttons.${i}`)}
              onChange={(e) => {
                const title = e.currentTarget.value;
                setButtons(buttons.map((x, j) => (j === i ? { ...x, reply: { ...x.reply, title } } : x)));
              }}
            />
            {buttons.length > 1 ? (
              <ActionIcon variant="subtle" aria-label={`Remove button ${i + 1}`} onClick={() => setButtons(buttons.filter((_, j) => j !== i))}>
                ×
              </ActionIcon>
            ) : null}
          </Group>
        ))}
        {buttons.length < MAX_BUTTONS ? (
          <Button
            size="compact-xs"
            variant="subtle"
            w="fit-content"
            onClick={() =>
              setButtons([
                ...buttons,
                reply(
                  nextNumber(
                    buttons.map((b) => b.reply.id),
                    'b',
                  ),
                  '',
                ),
              ])
            }
          >
            Add a button
          </Button>
        ) : null}
      </Stack>
    );
  } else if (kind === 'link') {
    const parameters = (action.parameters as { display_text?: string; url?: string } | undefined) ?? {};
    const setParameters = (patch: Record<string, string>) => withAction({ name: 'cta_url', parameters: { ...parameters, ...patch } });
    specific = (
      <Group gap="xs" grow align="flex-start">
        <TextInput
          label="Button text (1–20)"
          size="xs"
          value={parameters.display_text ?? ''}
          onChange={(e) => setParameters({ display_text: e.currentTarget.value })}
          error={err('interactive.action.parameters.display_text')}
        />
        <TextInput
          label="Opens (https)"
          size="xs"
          value={parameters.url ?? ''}
          onChange={(e) => setParameters({ url: e.currentTarget.value })}
          error={err('interactive.action.parameters.url')}
        />
      </Group>
    );
  } else if (kind === 'list') {
    const sections = (action.sections as ListSection[] | undefined) ?? [{ rows: [] }];
    const rows = sections[0]?.rows ?? [];
    const setRows = (next: ListRow[]) => withAction({ sections: [{ ...sections[0], rows: next }, ...sections.slice(1)] });
    const otherRows = sections.slice(1).reduce((n, s) => n + (s.rows?.length ?? 0), 0);
    specific = (
      <Stack gap={4}>
        <TextInput
          label="List button (1–20)"
          size="xs"
          w={260}
          value={String(action.button ?? '')}
          onChange={(e) => withAction({ button: e.currentTarget.value })}
          error={err('interactive.action.button')}
        />
        {rows.map((r, i) => (
          <Group key={i} gap={4} wrap="nowrap" align="flex-end">
            <TextInput
              size="xs"
              style={{ flex: 1 }}
              label={`Row ${i + 1} title`}
              value={r.title}
              error={err(`interactive.action.sections.0.rows.${i}`)}
              onChange={(e) => {
                const title = e.currentTarget.value;
                setRows(rows.map((x, j) => (j === i ? { ...x, title } : x)));
              }}
            />
            <TextInput
              size="xs"
              style={{ flex: 1 }}
              label={`Row ${i + 1} description (optional)`}
              value={r.description ?? ''}
              onChange={(e) => {
                const description = e.currentTarget.value;
                setRows(rows.map((x, j) => (j === i ? withDescription(x, description) : x)));
              }}
            />
            {rows.length > 1 ? (
              <ActionIcon variant="subtle" aria-label={`Remove row ${i + 1}`} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                ×
              </ActionIcon>
            ) : null}
          </Group>
        ))}
        {rows.length + otherRows < MAX_LIST_ROWS ? (
          <Button
            size="compact-xs"
            variant="subtle"
            w="fit-content"
            onClick={() =>
              setRows([
                ...rows,
                {
                  id: `row${nextNumber(
                    sections.flatMap((s) => s.rows.map((x) => x.id)),
                    'row',
                  )}`,
                  title: '',
                },
              ])
            }
          >
            Add a row
          </Button>
        ) : null}
      </Stack>
    );
  }

  // Whatever the server refused that no field above shows (a header, a footer, another section).
  const rest = Object.entries(errors)
    .filter(([f]) => !shown.has(f))
    .map(([f, m]) => `${f}: ${m}`);

  return (
    <Stack gap={6}>
      <SegmentedControl
        size="xs"
        w="fit-content"
        value={kind}
        onChange={(k) => onChange(blank(k as Kind, body))}
        data={[
          { value: 'text', label: 'Text' },
          { value: 'media', label: 'Media' },
          { value: 'buttons', label: 'Buttons' },
          { value: 'link', label: 'Link button' },
          { value: 'list', label: 'List' },
        ]}
        aria-label={`${props.label}: message type`}
      />
      <Textarea
        id={props.id}
        label={kind === 'media' ? `${props.label} caption` : props.label}
        description="WhatsApp formatting: *bold* _italic_ ~strike~ ```mono```"
        value={body}
        autosize
        minRows={2}
        maxRows={10}
        onChange={(e) => setBody(e.currentTarget.value)}
        error={bodyError}
      />
      {specific}
      {rest.length ? (
        <div role="alert" style={{ color: 'var(--mantine-color-red-7)', fontSize: 12 }}>
          {rest.join('; ')}
        </div>
      ) : null}
    </Stack>
  );
}

function withDescription(row: ListRow, description: string): ListRow {
  const { description: _old, ...rest } = row;
  return description ? { ...rest, description } : rest;
}

/** The next free number for ids like b1, b2 or row1, row2 (ids must stay unique). */
function nextNumber(ids: string[], prefix: string): number {
  const used = ids.map((id) => (id.startsWith(prefix) ? Number(id.slice(prefix.length)) : 0)).filter(Number.isFinite);
  return Math.max(0, ...used) + 1;
}
