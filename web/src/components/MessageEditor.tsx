/** Edits a message content object (text, media by link, reply buttons) with field-level server errors. */
import { ActionIcon, Button, Group, SegmentedControl, Select, Stack, TextInput, Textarea } from '@mantine/core';
import type { MessageContent } from '../api';

type Kind = 'text' | 'media' | 'buttons';

export function kindOf(m: MessageContent): Kind {
  if (m.type === 'interactive') return 'buttons';
  if (['image', 'video', 'document'].includes(m.type)) return 'media';
  return 'text';
}

function bodyOf(m: MessageContent): string {
  const c = m as Record<string, Record<string, unknown> | undefined>;
  if (m.type === 'text') return String(c.text?.body ?? '');
  if (m.type === 'interactive') return String((c.interactive?.body as { text?: string } | undefined)?.text ?? '');
  return String(c[m.type]?.caption ?? '');
}

/** `errors` maps a field path relative to this message (e.g. "text.body") to the server's message. */
export function MessageEditor(props: {
  label: string;
  value: MessageContent;
  onChange(m: MessageContent): void;
  errors: Record<string, string>;
  id: string;
}) {
  const { value, onChange, errors } = props;
  const kind = kindOf(value);
  const body = bodyOf(value);
  const c = value as Record<string, Record<string, unknown> | undefined>;
  const buttons =
    kind === 'buttons' ? ((c.interactive?.action as { buttons?: { reply: { id: string; title: string } }[] } | undefined)?.buttons ?? []) : [];
  const mediaType = kind === 'media' ? (value.type as 'image' | 'video' | 'document') : 'image';
  const media = kind === 'media' ? (c[value.type] ?? {}) : {};
  const err = (prefix: string) =>
    Object.entries(errors)
      .filter(([f]) => f === prefix || f.startsWith(`${prefix}.`))
      .map(([, m]) => m)
      .join('; ') || undefined;

  function make(k: Kind, text: string, btns = buttons, mt = mediaType, link = String(media.link ?? '')): MessageContent {
    if (k === 'text') return { type: 'text', text: { body: text } };
    if (k === 'media') return { type: mt, [mt]: { link, ...(text ? { caption: text } : {}) } };
    return {
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text },
        action: { buttons: btns.length ? btns : [{ type: 'reply', reply: { id: 'b1', title: 'OK' } }] },
      },
    };
  }

  const bodyField = kind === 'text' ? 'text.body' : kind === 'buttons' ? 'interactive.body' : `${mediaType}.caption`;
  const other = Object.entries(errors)
    .filter(([f]) => !f.startsWith(bodyField) && !f.startsWith('interactive.action') && !f.startsWith(`${mediaType}.link`) && kind !== 'text')
    .map(([, m]) => m);

  return (
    <Stack gap={6}>
      <SegmentedControl
        size="xs"
        w="fit-content"
        value={kind}
        onChange={(k) => onChange(make(k as Kind, body))}
        data={[
          { value: 'text', label: 'Text' },
          { value: 'media', label: 'Media' },
          { value: 'buttons', label: 'Buttons' },
        ]}
        aria-label={`${props.label}: message type`}
      />
      {kind === 'media' ? (
        <Group gap="xs" grow align="flex-start">
          <Select
            label="Media type"
            size="xs"
            value={mediaType}
            data={['image', 'video', 'document']}
            allowDeselect={false}
            onChange={(v) => v && onChange(make('media', body, buttons, v as typeof mediaType))}
          />
          <TextInput
            label="Link (https)"
            size="xs"
            value={String(media.link ?? '')}
            onChange={(e) => onChange(make('media', body, buttons, mediaType, e.currentTarget.value))}
            error={err(`${mediaType}.link`) ?? err(mediaType)}
          />
        </Group>
      ) : null}
      <Textarea
        id={props.id}
        label={kind === 'media' ? `${props.label} caption` : props.label}
        description="WhatsApp formatting: *bold* _italic_ ~strike~ ```mono```"
        value={body}
        autosize
        minRows={2}
        maxRows={10}
        onChange={(e) => onChange(make(kind, e.currentTarget.value))}
        error={err(bodyField) ?? (kind === 'text' ? err('text') : undefined)}
      />
      {kind === 'buttons' ? (
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
                  onChange(
                    make(
                      'buttons',
                      body,
                      buttons.map((x, j) => (j === i ? { ...x, reply: { id: x.reply.id, title } } : x)),
                    ),
                  );
                }}
              />
              {buttons.length > 1 ? (
                <ActionIcon
                  variant="subtle"
                  aria-label={`Remove button ${i + 1}`}
                  onClick={() =>
                    onChange(
                      make(
                        'buttons',
                        body,
                        buttons.filter((_, j) => j !== i),
                      ),
                    )
                  }
                >
                  ×
                </ActionIcon>
              ) : null}
            </Group>
          ))}
          {buttons.length < 3 ? (
            <Button
              size="compact-xs"
              variant="subtle"
              w="fit-content"
              onClick={() =>
                onChange(make('buttons', body, [...buttons, { type: 'reply', reply: { id: `b${buttons.length + 1}`, title: '' } }] as typeof buttons))
              }
            >
              Add a button
            </Button>
          ) : null}
        </Stack>
      ) : null}
      {other.length ? (
        <div role="alert" style={{ color: 'var(--mantine-color-red-7)', fontSize: 12 }}>
          {other.join('; ')}
        </div>
      ) : null}
    </Stack>
  );
}
