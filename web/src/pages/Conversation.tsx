import { useCallback, useEffect, useState } from 'react';
import {
  Accordion,
  ActionIcon,
  Alert,
  Badge,
  Button,
  Group,
  Loader,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Textarea,
  Title,
  Tooltip,
} from '@mantine/core';
import { type Agent, type ConversationDetail, type Message, api, contactLabel, formatTime, isInbound } from '../api';
import { useSession } from '../App';
import { useLatestOnly } from '../latest';
import { useLiveRefresh } from '../live';
import { actorOf, describeTimeline, ruleName } from '../timeline';
import { WhatsAppBubble } from '../whatsapp';
import { ClaimButton, STATUS_COLOR } from './Inbox';

const WINDOW_MS = 24 * 60 * 60 * 1000;

export function ConversationPane({ id, onChanged }: { id: string; onChanged(): void }) {
  const { principal } = useSession();
  const [detail, setDetail] = useState<ConversationDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  const latestOnly = useLatestOnly();

  const refresh = useCallback(() => {
    latestOnly(api.get<ConversationDetail>(`/conversations/${id}`))
      .then((d) => {
        setDetail(d);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [id, latestOnly]);
  useEffect(() => {
    setDetail(null);
    refresh();
  }, [refresh]);
  useLiveRefresh(refresh);

  if (error && !detail)
    return (
      <Alert color="red" role="alert" title="Cannot open this conversation">
        {error}
      </Alert>
    );
  if (!detail) return <Loader aria-label="Loading the conversation" />;

  const mine = principal.agentId !== null && detail.agentId === principal.agentId;
  const isAdmin = principal.role === 'admin';
  const open = detail.status !== 'closed';
  const canReply = open && detail.status === 'assigned' && (mine || isAdmin);
  const outsideWindow = detail.lastCustomerMessageAt !== null && Date.now() - new Date(detail.lastCustomerMessageAt).getTime() > WINDOW_MS;
  const changed = () => {
    refresh();
    onChanged();
  };

  return (
    <Stack gap="sm" data-testid="conversation-pane">
      <Paper withBorder p="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <div>
            <Title order={2} size="h4">
              {contactLabel(detail)}
            </Title>
            <Text size="sm" c="dimmed">
              {detail.contact?.waId ? `+${detail.contact.waId}` : null}
              {detail.contact?.waId && detail.contact?.userId ? ' · ' : null}
              {detail.contact?.userId ?? null}
              {' · number '}
              {detail.phoneNumberId}
            </Text>
            <Group gap="xs" mt={4}>
              <Badge color={STATUS_COLOR[detail.status] ?? 'gray'} data-testid="conversation-status">
                {detail.status === 'queued' ? 'in queue' : detail.status}
              </Badge>
              <Text size="sm">
                {detail.agentId ? `Assigned to ${detail.agentId}` : 'Not assigned'}
                {detail.closeReason ? ` · closed (${detail.closeReason.replace('_', ' ')})` : ''}
              </Text>
              {detail.businessHours ? (
                <Badge variant="light" color={detail.businessHours.open ? 'teal' : 'orange'} data-testid="business-hours-state">
                  {detail.businessHours.open
                    ? 'Within business hours'
                    : `Out of hours${detail.businessHours.nextOpeningAt ? ` · opens ${formatTime(detail.businessHours.nextOpeningAt)}` : ''}`}
                </Badge>
              ) : null}
            </Group>
          </div>
          <Group gap="xs">
            {open && principal.agentId && (detail.status === 'queued' || detail.status === 'unassigned') ? (
              <ClaimButton conversation={detail} agentId={principal.agentId} onClaimed={changed} />
            ) : null}
            {open && detail.status === 'assigned' && (mine || isAdmin) ? <CloseButton detail={detail} onDone={changed} /> : null}
          </Group>
        </Group>
        {isAdmin && open ? <Transfer detail={detail} onDone={changed} /> : null}
      </Paper>

      <Paper withBorder p="sm">
        <Title order={3} size="h5" mb="xs">
          Messages
        </Title>
        <ol className="messages" aria-label="Messages" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
          {detail.messages.map((m) => (
            <MessageRow key={m.id} message={m} />
          ))}
        </ol>
        {detail.messages.length === 0 ? <Text c="dimmed">No messages yet.</Text> : null}
      </Paper>

      {canReply ? (
        <Composer conversationId={detail.id} agentId={detail.agentId!} outsideWindow={outsideWindow} onSent={changed} />
      ) : open && detail.status === 'assigned' ? (
        <Text size="sm" c="dimmed">
          Only {detail.agentId} can reply to this conversation.
        </Text>
      ) : null}

      <Accordion variant="contained" multiple defaultValue={['timers', 'timeline']}>
        <Accordion.Item value="timers">
          <Accordion.Control>Armed timers ({detail.timers?.length ?? 0})</Accordion.Control>
          <Accordion.Panel>
            {detail.timers === undefined ? (
              <Text size="sm" c="dimmed">
                This server does not report timers.
              </Text>
            ) : detail.timers.length === 0 ? (
              <Text size="sm" c="dimmed">
                No automation is due.
              </Text>
            ) : (
              <ul data-testid="timers">
                {detail.timers.map((t, i) => (
                  <li key={i}>
                    <Text size="sm">
                      {ruleName(t.rule)} due {formatTime(t.dueAt, true)}
                    </Text>
                  </li>
                ))}
              </ul>
            )}
          </Accordion.Panel>
        </Accordion.Item>
        <Accordion.Item value="timeline">
          <Accordion.Control>Timeline ({detail.timeline?.length ?? 0})</Accordion.Control>
          <Accordion.Panel>
            {detail.timeline === undefined ? (
              <Text size="sm" c="dimmed">
                This server does not report the timeline.
              </Text>
            ) : (
              <ol data-testid="timeline" style={{ paddingLeft: 18 }}>
                {detail.timeline.map((t, i) => (
                  <li key={i}>
                    <Text size="sm" data-kind={t.kind}>
                      <Text span c="dimmed" size="xs">
                        {formatTime((t.at ?? t.occurredAt) as string, true)}
                      </Text>{' '}
                      {describeTimeline(t)}{' '}
                      <Text span c="dimmed" size="xs">
                        · {actorOf(t)}
                      </Text>
                    </Text>
                  </li>
                ))}
              </ol>
            )}
          </Accordion.Panel>
        </Accordion.Item>
      </Accordion>
    </Stack>
  );
}

function Tick({ message }: { message: Message }) {
  const status = message.status ?? '';
  if (status === 'failed') {
    const e = message.error as { code?: number | null; title?: string | null; message?: string | null; details?: string | null } | string | null;
    const reason =
      typeof e === 'string'
        ? e
        : e
          ? `${e.code ? `${e.code} ` : ''}${e.message ?? e.title ?? e.details ?? ''}`.trim() || 'unknown reason'
          : 'unknown reason';
    return (
      <Text span size="xs" c="red" data-status="failed">
        Failed: {reason}
      </Text>
    );
  }
  if (status === 'skipped') return null;
  const label = status === 'accepted' || status === 'recorded' ? 'sent' : status || 'pending';
  const double = status === 'read' || status === 'delivered';
  return (
    <Tooltip label={label}>
      <Text span size="xs" className={status === 'read' ? 'tick-read' : undefined} data-status={status || 'pending'} tabIndex={0}>
        <svg width={double ? 18 : 12} height="11" viewBox={double ? '0 0 18 11' : '0 0 12 11'} aria-hidden="true" style={{ verticalAlign: 'middle' }}>
          <path d="M1 6l3 3 7-8" fill="none" stroke="currentColor" strokeWidth="1.6" />
          {double ? <path d="M7 6l3 3 7-8" fill="none" stroke="currentColor" strokeWidth="1.6" /> : null}
        </svg>
        <span className="visually-hidden">{label}</span>
      </Text>
    </Tooltip>
  );
}

function MessageRow({ message }: { message: Message }) {
  const inbound = isInbound(message);
  const skipped = message.status === 'skipped' || message.skipReason !== null;
  return (
    <li className={inbound ? 'msg-row-in' : 'msg-row-out'} data-message-id={message.id}>
      {skipped ? (
        <Alert color="gray" variant="outline" p={6} data-testid="skipped">
          <Text size="xs">
            Skipped {message.automation ? message.automation.replace('_', ' ') : 'message'}: {message.skipReason ?? 'not sent'}
          </Text>
        </Alert>
      ) : (
        <WhatsAppBubble content={message.content} outgoing={!inbound} />
      )}
      <div className="msg-meta">
        {message.automation ? (
          <Badge size="xs" variant="outline" color="grape">
            automated · {message.automation.replace('_', ' ')}
          </Badge>
        ) : null}
        <span>{inbound ? 'customer' : (message.agentId ?? message.author ?? '')}</span>
        <span>{formatTime(message.sentAt)}</span>
        {!inbound && !skipped ? <Tick message={message} /> : null}
      </div>
    </li>
  );
}

function CloseButton({ detail, onDone }: { detail: ConversationDetail; onDone(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { principal } = useSession();
  return (
    <>
      <Button
        color="red"
        variant="light"
        size="compact-sm"
        loading={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          api
            .post(
              `/conversations/${detail.id}/close`,
              principal.agentId && principal.agentId === detail.agentId ? { agentId: principal.agentId } : {},
            )
            .then(onDone)
            .catch((e: Error) => setError(e.message))
            .finally(() => setBusy(false));
        }}
      >
        Close conversation
      </Button>
      {error ? (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      ) : null}
    </>
  );
}

function Transfer({ detail, onDone }: { detail: ConversationDetail; onDone(): void }) {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [to, setTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .get<{ agents: Agent[] }>('/agents')
      .then((r) => setAgents(r.agents))
      .catch(() => setAgents([]));
  }, []);
  if (agents.length === 0) return null;
  return (
    <Group mt="xs" gap="xs" align="flex-end">
      <Select
        label="Transfer to"
        size="xs"
        data={agents
          .filter((a) => a.id !== detail.agentId)
          .map((a) => ({ value: a.id, label: `${a.name} (${a.load}/${a.receptionLimit}, ${a.status})` }))}
        value={to}
        onChange={setTo}
        w={240}
        error={error ?? undefined}
      />
      <Button
        size="xs"
        variant="default"
        disabled={!to}
        onClick={() => {
          setError(null);
          api
            .post(`/conversations/${detail.id}/assign`, { agentId: to })
            .then(onDone)
            .catch((e: Error) => setError(e.message));
        }}
      >
        Transfer
      </Button>
    </Group>
  );
}

type Kind = 'text' | 'buttons' | 'media' | 'template';

function Composer({
  conversationId,
  agentId,
  outsideWindow,
  onSent,
}: {
  conversationId: string;
  agentId: string;
  outsideWindow: boolean;
  onSent(): void;
}) {
  const [chosenKind, setKind] = useState<Kind>('text');
  // Outside the 24-hour window WhatsApp delivers only templates (R16): the composer offers nothing else.
  const kind: Kind = outsideWindow ? 'template' : chosenKind;
  const [templateName, setTemplateName] = useState('');
  const [language, setLanguage] = useState('en');
  const [parameters, setParameters] = useState<string[]>([]);
  const [body, setBody] = useState('');
  const [buttons, setButtons] = useState<string[]>(['']);
  const [mediaType, setMediaType] = useState<'image' | 'video' | 'document'>('image');
  const [link, setLink] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const message =
    kind === 'text'
      ? { type: 'text', text: { body } }
      : kind === 'buttons'
        ? {
            type: 'interactive',
            interactive: {
              type: 'button',
              body: { text: body },
              action: { buttons: buttons.filter((b) => b.trim()).map((title, i) => ({ type: 'reply', reply: { id: `b${i + 1}`, title } })) },
            },
          }
        : kind === 'template'
          ? {
              type: 'template',
              template: {
                name: templateName.trim(),
                language: { code: language.trim() },
                ...(parameters.length ? { components: [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }] } : {}),
              },
            }
          : { type: mediaType, [mediaType]: { link, ...(body ? { caption: body } : {}) } };

  function send() {
    setBusy(true);
    setError(null);
    api
      .post(`/conversations/${conversationId}/messages`, { agentId, message })
      .then(() => {
        setBody('');
        setLink('');
        setButtons(['']);
        setTemplateName('');
        setParameters([]);
        onSent();
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  }

  return (
    <Paper withBorder p="sm" component="form" onSubmit={(e: React.FormEvent) => (e.preventDefault(), send())} aria-label="Reply">
      <Stack gap="xs">
        {outsideWindow ? (
          <Alert
            color="orange"
            title="Outside the 24-hour window"
            data-testid="outside-window"
            // Mantine's orange title (#d9480f, its darkest shade) is 3.6:1 on the light background; this brown is about 7:1.
            styles={{ title: { color: '#8a3207' } }}
          >
            The customer last wrote more than 24 hours ago: WhatsApp delivers only approved templates until they write again.
          </Alert>
        ) : (
          <SegmentedControl
            size="xs"
            value={kind}
            onChange={(v) => setKind(v as Kind)}
            data={[
              { value: 'text', label: 'Text' },
              { value: 'buttons', label: 'Reply buttons' },
              { value: 'media', label: 'Media link' },
              { value: 'template', label: 'Template' },
            ]}
            aria-label="Message type"
          />
        )}
        {kind === 'template' ? (
          <TemplateFields
            name={templateName}
            onName={setTemplateName}
            language={language}
            onLanguage={setLanguage}
            parameters={parameters}
            onParameters={setParameters}
          />
        ) : null}
        {kind === 'media' ? (
          <Group gap="xs" grow>
            <Select
              label="Media"
              size="xs"
              value={mediaType}
              onChange={(v) => v && setMediaType(v as typeof mediaType)}
              data={['image', 'video', 'document']}
              allowDeselect={false}
            />
            <TextInput label="Link (https)" size="xs" value={link} onChange={(e) => setLink(e.currentTarget.value)} placeholder="https://…" />
          </Group>
        ) : null}
        {kind === 'template' ? null : (
          <Textarea
            label={kind === 'media' ? 'Caption' : 'Message'}
            description="*bold* _italic_ ~strike~ ```mono```"
            value={body}
            onChange={(e) => setBody(e.currentTarget.value)}
            autosize
            minRows={2}
            maxRows={8}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send();
            }}
          />
        )}
        {kind === 'buttons' ? (
          <Stack gap={4}>
            {buttons.map((b, i) => (
              <Group key={i} gap={4} wrap="nowrap">
                <TextInput
                  size="xs"
                  style={{ flex: 1 }}
                  label={`Button ${i + 1}`}
                  maxLength={20}
                  value={b}
                  onChange={(e) => {
                    const v = e.currentTarget.value;
                    setButtons((prev) => prev.map((x, j) => (j === i ? v : x)));
                  }}
                />
                {buttons.length > 1 ? (
                  <ActionIcon
                    variant="subtle"
                    mt={18}
                    aria-label={`Remove button ${i + 1}`}
                    onClick={() => setButtons((prev) => prev.filter((_, j) => j !== i))}
                  >
                    ×
                  </ActionIcon>
                ) : null}
              </Group>
            ))}
            {buttons.length < 3 ? (
              <Button size="compact-xs" variant="subtle" onClick={() => setButtons((prev) => [...prev, ''])} w="fit-content">
                Add a button
              </Button>
            ) : null}
          </Stack>
        ) : null}
        {body || link || (kind === 'template' && templateName) ? (
          <div className="wa-phone" role="group" aria-label="Preview">
            <WhatsAppBubble content={message} />
          </div>
        ) : null}
        {error ? (
          <Text size="sm" c="red" role="alert">
            {error}
          </Text>
        ) : null}
        <Group justify="flex-end">
          <Button type="submit" loading={busy} disabled={kind === 'template' ? !templateName.trim() : !body && !link}>
            Send
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** A template by name and language (approved in WhatsApp Manager), with its body parameters {{1}}, {{2}}… */
function TemplateFields({
  name,
  onName,
  language,
  onLanguage,
  parameters,
  onParameters,
}: {
  name: string;
  onName(v: string): void;
  language: string;
  onLanguage(v: string): void;
  parameters: string[];
  onParameters(v: string[]): void;
}) {
  return (
    <Stack gap={4}>
      <Group gap="xs" grow>
        <TextInput
          label="Template name"
          size="xs"
          value={name}
          onChange={(e) => onName(e.currentTarget.value)}
          placeholder="order_update"
          description="As approved in WhatsApp Manager: a-z, 0-9 and _"
        />
        <TextInput
          label="Language"
          size="xs"
          value={language}
          onChange={(e) => onLanguage(e.currentTarget.value)}
          placeholder="en"
          description="A code like en or pt_BR"
        />
      </Group>
      {parameters.map((p, i) => (
        <Group key={i} gap={4} wrap="nowrap">
          <TextInput
            size="xs"
            style={{ flex: 1 }}
            label={`Body parameter {{${i + 1}}}`}
            maxLength={1024}
            value={p}
            onChange={(e) => {
              const v = e.currentTarget.value;
              onParameters(parameters.map((x, j) => (j === i ? v : x)));
            }}
          />
          <ActionIcon
            variant="subtle"
            mt={18}
            aria-label={`Remove parameter ${i + 1}`}
            onClick={() => onParameters(parameters.filter((_, j) => j !== i))}
          >
            ×
          </ActionIcon>
        </Group>
      ))}
      <Button size="compact-xs" variant="subtle" onClick={() => onParameters([...parameters, ''])} w="fit-content">
        Add a body parameter
      </Button>
    </Stack>
  );
}
