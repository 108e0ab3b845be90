/**
 * Automation settings of one number, laid out like the reference product page: one section
 * per automation, each with its switch, editor, WhatsApp-style preview and its own Save.
 * A section's Save sends the saved settings with only that section changed, so a refusal
 * (400, details naming each field) leaves everything as it was.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import {
  Alert,
  Anchor,
  Button,
  Grid,
  Group,
  Loader,
  NumberInput,
  Paper,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { ApiError, type MessageContent, api } from '../api';
import { useLatestOnly } from '../latest';
import { MessageEditor } from '../components/MessageEditor';
import { WhatsAppBubble } from '../whatsapp';
import { linkProps } from '../router';

type Settings = Record<string, Record<string, unknown>>;

const CSAT_OPTIONS = ['5 Very satisfied', '4 Satisfied', '3 Neutral', '2 Dissatisfied', '1 Very dissatisfied'];

const SECTIONS: { key: string; title: string; help: string }[] = [
  { key: 'welcome', title: 'Welcome message', help: 'Sent when a customer first opens a chat with this number, before they write anything.' },
  { key: 'iceBreakers', title: 'Ice breakers', help: 'Up to 4 common questions shown in the customer’s chat; each 1–80 characters, no emoji.' },
  {
    key: 'unassignedReply',
    title: 'Unassigned auto-reply',
    help: 'When a conversation enters unassigned (no one is serving it), this reply is sent, after an optional delay.',
  },
  {
    key: 'queueReply',
    title: 'Queue message',
    help: 'When a conversation enters the queue, the customer is told they are waiting. {{position}} (their place, from 1) and {{ahead}} (people ahead) are filled in when it is sent.',
  },
  {
    key: 'reminder',
    title: 'Reminder (delayed agent response)',
    help: 'If an agent has not replied within the waiting time, this message is sent to the customer.',
  },
  {
    key: 'autoClose',
    title: 'Auto-close',
    help: 'An agent’s conversation closes when the customer does not reply within this time. Range 1 minute – 72 hours; recommended 24 hours.',
  },
  {
    key: 'csat',
    title: 'Satisfaction survey',
    help: 'After a human agent’s conversation ends, the customer is asked to rate it. The five options are fixed.',
  },
  {
    key: 'reassign',
    title: 'Reassignment',
    help: 'If the assigned agent has not replied to the customer within this time, the conversation is taken from them and routed to another online agent (never back to them in this conversation). The agent is told, and the timeline records why. The reminder is independent of it.',
  },
  {
    key: 'businessHours',
    title: 'Business hours',
    help: 'Outside these hours a customer waiting for a person gets the out-of-office message instead of the unassigned or queue message, once per closed period. Agents online out of hours still get work.',
  },
];

export function SettingsPage({ phoneNumberId }: { phoneNumberId: string }) {
  const [saved, setSaved] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latestOnly = useLatestOnly();
  const load = useCallback(() => {
    latestOnly(api.get<Settings>(`/numbers/${encodeURIComponent(phoneNumberId)}/automation`))
      .then(setSaved)
      .catch((e: Error) => setError(e.message));
  }, [phoneNumberId, latestOnly]);
  useEffect(load, [load]);

  if (error)
    return (
      <Alert color="red" role="alert">
        {error}
      </Alert>
    );
  if (!saved) return <Loader aria-label="Loading settings" />;
  return (
    <Stack gap="md" maw={1000}>
      <div>
        <Text size="sm">
          <Anchor {...linkProps('/numbers')}>Numbers</Anchor> › {phoneNumberId} › Automation
        </Text>
        <Title order={2}>Automation</Title>
        <Text c="dimmed" size="sm">
          Automation settings for number {phoneNumberId}. Each section is saved on its own; changes apply to open conversations within seconds.
        </Text>
      </div>
      {SECTIONS.map((s) => (
        <Section key={s.key} section={s} saved={saved} phoneNumberId={phoneNumberId} onSaved={setSaved} />
      ))}
    </Stack>
  );
}

function Section(props: { section: (typeof SECTIONS)[number]; saved: Settings; phoneNumberId: string; onSaved(s: Settings): void }) {
  const { key, title, help } = props.section;
  const [draft, setDraft] = useState<Record<string, unknown>>(props.saved[key] ?? {});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: string, value: unknown) => setDraft((d) => ({ ...d, [field]: value }));
  const fieldError = (f: string) => errors[f];
  const id = `section-${key}`;

  function save() {
    setBusy(true);
    setStatus(null);
    setErrors({});
    const body = { ...props.saved, [key]: draft };
    api
      .put<Settings>(`/numbers/${encodeURIComponent(props.phoneNumberId)}/automation`, body)
      .then((s) => {
        props.onSaved(s ?? body);
        setDraft((s ?? body)[key] ?? draft);
        setStatus({ ok: true, text: 'Saved.' });
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 400) {
          const mine: Record<string, string> = {};
          const others: string[] = [];
          for (const d of e.details) {
            const f = d.field.replace(/^body\./, '');
            if (f === key || f.startsWith(`${key}.`)) mine[f.slice(key.length + 1)] = d.message;
            else others.push(`${d.field}: ${d.message}`);
          }
          setErrors(mine);
          setStatus({ ok: false, text: `Not saved: ${e.message}${others.length ? ` (${others.join('; ')})` : ''}. Nothing was changed.` });
        } else {
          setStatus({ ok: false, text: `Not saved: ${e instanceof Error ? e.message : String(e)}` });
        }
      })
      .finally(() => setBusy(false));
  }

  const messageErrors = Object.fromEntries(
    Object.entries(errors)
      .filter(([f]) => f.startsWith('message'))
      .map(([f, m]) => [f.replace(/^message\.?/, ''), m]),
  );

  let editor: ReactNode = null;
  let preview: ReactNode = null;
  switch (key) {
    case 'welcome':
    case 'unassignedReply':
    case 'queueReply':
    case 'reminder':
      editor = (
        <>
          {key === 'unassignedReply' ? (
            <NumberInput
              label="Delay before sending (seconds, 0–600)"
              value={draft.delaySeconds as number}
              onChange={(v) => set('delaySeconds', v === '' ? '' : Number(v))}
              error={fieldError('delaySeconds')}
              allowDecimal={false}
              w={320}
            />
          ) : null}
          {key === 'reminder' ? (
            <NumberInput
              label="Waiting time (minutes, 1–1440)"
              value={draft.waitMinutes as number}
              onChange={(v) => set('waitMinutes', v === '' ? '' : Number(v))}
              error={fieldError('waitMinutes')}
              allowDecimal={false}
              w={260}
            />
          ) : null}
          <MessageEditor
            id={`${id}-message`}
            label="Message"
            value={draft.message as MessageContent}
            onChange={(m) => set('message', m)}
            errors={messageErrors}
          />
          {key === 'queueReply' ? <PositionUpdatesEditor id={id} draft={draft} set={set} errors={errors} /> : null}
        </>
      );
      preview = <WhatsAppBubble content={draft.message as MessageContent} />;
      break;
    case 'iceBreakers': {
      const prompts = (draft.prompts as string[]) ?? [];
      editor = (
        <Stack gap={6}>
          {prompts.map((p, i) => (
            <Group key={i} gap={4} wrap="nowrap" align="flex-start">
              <TextInput
                style={{ flex: 1 }}
                label={`Ice breaker ${i + 1}`}
                value={p}
                maxLength={200}
                onChange={(e) => {
                  const v = e.currentTarget.value;
                  set(
                    'prompts',
                    prompts.map((x, j) => (j === i ? v : x)),
                  );
                }}
                error={fieldError(`prompts.${i}`)}
              />
              <Button
                variant="subtle"
                size="compact-sm"
                mt={26}
                onClick={() =>
                  set(
                    'prompts',
                    prompts.filter((_, j) => j !== i),
                  )
                }
                aria-label={`Remove ice breaker ${i + 1}`}
              >
                Remove
              </Button>
            </Group>
          ))}
          {fieldError('prompts') ? (
            <Text c="red" size="xs" role="alert">
              {fieldError('prompts')}
            </Text>
          ) : null}
          {prompts.length < 4 ? (
            <Button variant="light" size="compact-sm" w="fit-content" onClick={() => set('prompts', [...prompts, ''])}>
              Add an ice breaker
            </Button>
          ) : null}
        </Stack>
      );
      preview = (
        <Stack gap={4} w="100%">
          {prompts.length === 0 ? <Text size="sm">No ice breakers: the chat opens empty.</Text> : null}
          {prompts.map((p, i) => (
            <span key={i} className="wa-button">
              {p || '…'}
            </span>
          ))}
        </Stack>
      );
      break;
    }
    case 'autoClose': {
      const minutes = Number(draft.afterMinutes);
      editor = (
        <Group align="flex-start" gap="xs">
          <NumberInput
            label="Close after (minutes, 1–4320)"
            description="Recommended: 1440 (24 hours)"
            value={draft.afterMinutes as number}
            onChange={(v) => set('afterMinutes', v === '' ? '' : Number(v))}
            error={fieldError('afterMinutes')}
            allowDecimal={false}
            w={260}
          />
          <Select
            label="Presets"
            w={180}
            placeholder="Choose"
            value={null}
            data={[
              { value: '60', label: '1 hour' },
              { value: '720', label: '12 hours' },
              { value: '1440', label: '24 hours (recommended)' },
              { value: '4320', label: '72 hours' },
            ]}
            onChange={(v) => v && set('afterMinutes', Number(v))}
          />
        </Group>
      );
      preview = (
        <Text size="sm">
          {Number.isFinite(minutes) && minutes > 0
            ? `Closes ${minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60 ? `${minutes % 60} min` : ''}` : `${minutes} min`} after the agent’s last reply if the customer is silent.`
            : 'Enter a time.'}
        </Text>
      );
      break;
    }
    case 'reassign': {
      const minutes = Number(draft.afterMinutes);
      editor = (
        <>
          <NumberInput
            label="Reassign after (minutes, 1–1440)"
            value={draft.afterMinutes as number}
            onChange={(v) => set('afterMinutes', v === '' ? '' : Number(v))}
            error={fieldError('afterMinutes')}
            allowDecimal={false}
            w={260}
          />
          <Switch
            label="Also when the agent goes offline (their conversations awaiting a reply are routed again at once)"
            checked={Boolean(draft.onAgentOffline)}
            onChange={(e) => set('onAgentOffline', e.currentTarget.checked)}
            error={fieldError('onAgentOffline')}
          />
        </>
      );
      preview = (
        <Text size="sm">
          {Number.isFinite(minutes) && minutes > 0
            ? `A customer left without a reply for ${minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60 ? `${minutes % 60} min` : ''}` : `${minutes} min`} is given to another agent${draft.onAgentOffline ? '; so is one whose agent goes offline.' : '.'}`
            : 'Enter a time.'}
        </Text>
      );
      break;
    }
    case 'csat':
      editor = (
        <>
          <Textarea
            label="Survey text"
            value={String(draft.body ?? '')}
            onChange={(e) => set('body', e.currentTarget.value)}
            error={fieldError('body')}
            autosize
            minRows={2}
          />
          <TextInput
            label="Button text"
            value={String(draft.buttonText ?? '')}
            onChange={(e) => set('buttonText', e.currentTarget.value)}
            error={fieldError('buttonText')}
          />
          <div>
            <Text size="sm" fw={500}>
              Options (fixed)
            </Text>
            <ol style={{ margin: 0, paddingLeft: 18 }} aria-label="Survey options">
              {CSAT_OPTIONS.map((o) => (
                <li key={o}>
                  <Text size="sm">{o}</Text>
                </li>
              ))}
            </ol>
          </div>
          <SurveyTemplateFields
            value={(draft.template as { name: string; language: string } | null | undefined) ?? null}
            onChange={(t) => set('template', t)}
            nameError={fieldError('template.name') ?? fieldError('template')}
            languageError={fieldError('template.language')}
          />
        </>
      );
      preview = (
        <WhatsAppBubble
          content={{
            type: 'interactive',
            interactive: { type: 'list', body: { text: String(draft.body ?? '') }, action: { button: String(draft.buttonText ?? '') } },
          }}
        />
      );
      break;
  }

  if (key === 'businessHours') {
    editor = <BusinessHoursEditor id={id} draft={draft} set={set} errors={errors} />;
    preview = <WhatsAppBubble content={draft.outOfOfficeMessage as MessageContent} />;
  }

  const otherErrors = Object.entries(errors).filter(
    ([f]) =>
      !f.startsWith('message') &&
      !['delaySeconds', 'waitMinutes', 'afterMinutes', 'body', 'buttonText', 'timezone'].includes(f) &&
      !f.startsWith('prompts') &&
      !f.startsWith('positionUpdates') &&
      !f.startsWith('weekly') &&
      !f.startsWith('closedDates') &&
      !f.startsWith('outOfOfficeMessage'),
  );

  return (
    <Paper withBorder p="md" component="section" aria-labelledby={`${id}-title`} data-section={key}>
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <div>
          <Title order={3} size="h4" id={`${id}-title`}>
            {title}
          </Title>
          <Text size="sm" c="dimmed">
            {help}
          </Text>
        </div>
        <Switch
          checked={Boolean(draft.enabled)}
          onChange={(e) => set('enabled', e.currentTarget.checked)}
          label={draft.enabled ? 'On' : 'Off'}
          aria-label={`${title}: enabled`}
          error={fieldError('enabled')}
        />
      </Group>
      <Grid mt="sm">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="xs">{editor}</Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Text size="xs" c="dimmed" mb={4}>
            Preview
          </Text>
          <div className="wa-phone" role="group" aria-label={`${title} preview`}>
            {preview}
          </div>
        </Grid.Col>
      </Grid>
      {otherErrors.length ? (
        <Text c="red" size="sm" role="alert" mt="xs">
          {otherErrors.map(([f, m]) => `${f}: ${m}`).join('; ')}
        </Text>
      ) : null}
      <Group mt="sm" justify="flex-end" gap="sm">
        {status ? (
          <Text size="sm" c={status.ok ? 'teal' : 'red'} role={status.ok ? 'status' : 'alert'}>
            {status.text}
          </Text>
        ) : null}
        <Button onClick={save} loading={busy} aria-label={`Save ${title}`}>
          Save
        </Button>
      </Group>
    </Paper>
  );
}

/**
 * R16: an approved template sent as the survey when the 24-hour window has closed (after a
 * long auto-close); its quick-reply buttons must be the scores 5, 4, 3, 2, 1 in that order.
 */
function SurveyTemplateFields({
  value,
  onChange,
  nameError,
  languageError,
}: {
  value: { name: string; language: string } | null;
  onChange(v: { name: string; language: string } | null): void;
  nameError?: string;
  languageError?: string;
}) {
  return (
    <Stack gap={4}>
      <Switch
        label="Outside the 24-hour window, send an approved template instead"
        checked={value !== null}
        onChange={(e) => onChange(e.currentTarget.checked ? { name: '', language: 'en' } : null)}
      />
      {value ? (
        <>
          <Group gap="xs" grow align="flex-start">
            <TextInput
              label="Template name"
              size="xs"
              value={value.name}
              onChange={(e) => onChange({ ...value, name: e.currentTarget.value })}
              error={nameError}
              description="a-z, 0-9 and _, as approved in WhatsApp Manager"
            />
            <TextInput
              label="Template language"
              size="xs"
              value={value.language}
              onChange={(e) => onChange({ ...value, language: e.currentTarget.value })}
              error={languageError}
              description="a code like en or pt_BR"
            />
          </Group>
          <Text size="xs" c="dimmed">
            Its quick-reply buttons, in order, answer 5, 4, 3, 2 and 1.
          </Text>
        </>
      ) : null}
    </Stack>
  );
}

/** R15: the opt-in position updates of the queue message, with their own switch, interval and message. */
function PositionUpdatesEditor(props: {
  id: string;
  draft: Record<string, unknown>;
  set: (field: string, value: unknown) => void;
  errors: Record<string, string>;
}) {
  const updates = (props.draft.positionUpdates ?? { enabled: false, everyMinutes: 15 }) as {
    enabled: boolean;
    everyMinutes: number | '';
    message?: MessageContent;
  };
  const change = (field: string, value: unknown) => props.set('positionUpdates', { ...updates, [field]: value });
  const messageErrors = Object.fromEntries(
    Object.entries(props.errors)
      .filter(([f]) => f.startsWith('positionUpdates.message'))
      .map(([f, m]) => [f.replace(/^positionUpdates\.message\.?/, ''), m]),
  );
  return (
    <Stack gap="xs" mt="sm">
      <Switch
        label="Position updates: tell a queued customer when their place improves"
        checked={updates.enabled}
        onChange={(e) => change('enabled', e.currentTarget.checked)}
      />
      {updates.enabled ? (
        <>
          <NumberInput
            label="At most every (minutes, 5–60)"
            value={updates.everyMinutes}
            onChange={(v) => change('everyMinutes', v === '' ? '' : Number(v))}
            error={props.errors['positionUpdates.everyMinutes']}
            allowDecimal={false}
            w={260}
          />
          <MessageEditor
            id={`${props.id}-position-message`}
            label="Position update message"
            value={updates.message ?? { type: 'text', text: { body: '' } }}
            onChange={(m) => change('message', m)}
            errors={messageErrors}
          />
        </>
      ) : null}
    </Stack>
  );
}

const WEEKDAY_NAMES: [string, string][] = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
];

/** The zones this browser knows (IANA names), for the time-zone picker. */
const TIME_ZONES: string[] = (Intl as unknown as { supportedValuesOf?(k: string): string[] }).supportedValuesOf?.('timeZone') ?? ['UTC'];

/** R14: time zone, a weekly grid of opening intervals (split shifts allowed), closed dates, the message. */
function BusinessHoursEditor(props: {
  id: string;
  draft: Record<string, unknown>;
  set: (field: string, value: unknown) => void;
  errors: Record<string, string>;
}) {
  const { draft, set, errors } = props;
  const weekly = (draft.weekly ?? {}) as Record<string, [string, string][]>;
  const closedDates = (draft.closedDates ?? []) as string[];
  const [datesText, setDatesText] = useState(closedDates.join(', '));
  const setDay = (day: string, intervals: [string, string][]) => set('weekly', { ...weekly, [day]: intervals });
  const messageErrors = Object.fromEntries(
    Object.entries(errors)
      .filter(([f]) => f.startsWith('outOfOfficeMessage'))
      .map(([f, m]) => [f.replace(/^outOfOfficeMessage\.?/, ''), m]),
  );
  const dateErrors = Object.entries(errors).filter(([f]) => f.startsWith('closedDates'));
  const timezones = TIME_ZONES.includes(String(draft.timezone)) ? TIME_ZONES : [String(draft.timezone ?? 'UTC'), ...TIME_ZONES];
  return (
    <>
      <Select
        label="Time zone"
        searchable
        w={320}
        data={timezones}
        value={String(draft.timezone ?? 'UTC')}
        onChange={(v) => set('timezone', v ?? 'UTC')}
        error={errors.timezone}
      />
      <Switch
        label="Pause the reminder and reassignment clocks outside business hours (they count business time only)"
        checked={Boolean(draft.pauseClocks)}
        onChange={(e) => set('pauseClocks', e.currentTarget.checked)}
      />
      <Stack gap={6} role="group" aria-label="Opening hours by weekday">
        {WEEKDAY_NAMES.map(([day, name]) => {
          const intervals = weekly[day] ?? [];
          return (
            <Group key={day} gap="xs" align="flex-start" wrap="wrap">
              <Text size="sm" fw={500} w={90} mt={6}>
                {name}
              </Text>
              <Stack gap={4} style={{ flex: 1, minWidth: 220 }}>
                {intervals.length === 0 ? (
                  <Text size="sm" c="dimmed" mt={6}>
                    Closed
                  </Text>
                ) : null}
                {intervals.map(([start, end], i) => (
                  <Group key={i} gap={4} wrap="nowrap" align="flex-start">
                    <TextInput
                      size="xs"
                      w={110}
                      aria-label={`${name} interval ${i + 1} opens`}
                      placeholder="HH:MM"
                      value={start}
                      onChange={(e) => setDay(day, intervals.map((x, j) => (j === i ? [e.currentTarget.value, x[1]] : x)) as [string, string][])}
                      error={errors[`weekly.${day}[${i}]`]}
                    />
                    <Text size="sm" mt={4}>
                      –
                    </Text>
                    <TextInput
                      size="xs"
                      w={110}
                      aria-label={`${name} interval ${i + 1} closes`}
                      description={i === 0 && end === '24:00' ? 'midnight' : undefined}
                      value={end}
                      placeholder="HH:MM"
                      onChange={(e) => setDay(day, intervals.map((x, j) => (j === i ? [x[0], e.currentTarget.value] : x)) as [string, string][])}
                    />
                    <Button
                      variant="subtle"
                      size="compact-xs"
                      mt={4}
                      aria-label={`Remove ${name} interval ${i + 1}`}
                      onClick={() =>
                        setDay(
                          day,
                          intervals.filter((_, j) => j !== i),
                        )
                      }
                    >
                      Remove
                    </Button>
                  </Group>
                ))}
                {errors[`weekly.${day}`] ? (
                  <Text c="red" size="xs" role="alert">
                    {errors[`weekly.${day}`]}
                  </Text>
                ) : null}
              </Stack>
              <Button
                variant="light"
                size="compact-xs"
                mt={4}
                aria-label={`Add an interval on ${name}`}
                onClick={() => setDay(day, [...intervals, intervals.length ? ['14:00', '18:00'] : ['09:00', '17:00']])}
              >
                Add
              </Button>
            </Group>
          );
        })}
      </Stack>
      <TextInput
        label="Closed dates"
        description="YYYY-MM-DD in this time zone, separated by commas (holidays)"
        value={datesText}
        onChange={(e) => {
          const text = e.currentTarget.value;
          setDatesText(text);
          set(
            'closedDates',
            text
              .split(',')
              .map((d) => d.trim())
              .filter(Boolean),
          );
        }}
        error={dateErrors.length ? dateErrors.map(([f, m]) => `${closedDates[Number(/\[(\d+)\]/.exec(f)?.[1])] ?? f}: ${m}`).join('; ') : undefined}
      />
      <MessageEditor
        id={`${props.id}-out-of-office`}
        label="Out-of-office message"
        value={(draft.outOfOfficeMessage as MessageContent) ?? { type: 'text', text: { body: '' } }}
        onChange={(m) => set('outOfOfficeMessage', m)}
        errors={messageErrors}
      />
    </>
  );
}
