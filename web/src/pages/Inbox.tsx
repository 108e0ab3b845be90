import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Badge,
  Box,
  Button,
  Group,
  Loader,
  Modal,
  Paper,
  ScrollArea,
  SegmentedControl,
  Stack,
  Tabs,
  Text,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { type Agent, type Conversation, api, contactLabel, contactSecondary, formatTime } from '../api';
import { useSession } from '../App';
import { useLatestOnly } from '../latest';
import { useLiveRefresh } from '../live';
import { linkProps, navigate } from '../router';
import { ConversationPane } from './Conversation';

export type View = 'mine' | 'unassigned' | 'queued' | 'bot' | 'closed';
const VIEWS: { value: View; label: string }[] = [
  { value: 'mine', label: 'Mine' },
  { value: 'unassigned', label: 'Unassigned' },
  { value: 'queued', label: 'In queue' },
  { value: 'bot', label: 'Bot' },
  { value: 'closed', label: 'Closed' },
];

export const STATUS_COLOR: Record<string, string> = { assigned: 'teal', unassigned: 'orange', queued: 'yellow', bot: 'grape', closed: 'gray' };

function listPath(view: View, agentId: string | null, sub: 'all' | 'queued'): string {
  switch (view) {
    case 'mine':
      return agentId ? `/conversations?status=assigned&agentId=${encodeURIComponent(agentId)}` : '/conversations?status=assigned';
    case 'unassigned':
      return sub === 'queued' ? '/conversations?status=queued' : '/conversations?status=unassigned';
    default:
      return `/conversations?status=${view}`;
  }
}

export function InboxPage({ path }: { path: string }) {
  const { principal } = useSession();
  const parts = path.split('/').filter(Boolean); // inbox, view, id
  const view = (VIEWS.some((v) => v.value === parts[1]) ? parts[1] : 'mine') as View;
  const selected = parts[2] ?? null;
  const narrow = useMediaQuery('(max-width: 48em)');
  const [sub, setSub] = useState<'all' | 'queued'>('all');
  const [list, setList] = useState<Conversation[] | null>(null);
  const [queuedCount, setQueuedCount] = useState<number | null>(null);
  const [me, setMe] = useState<Agent | null>(null);
  const [error, setError] = useState<string | null>(null);

  const [latestList, latestQueued, latestMe] = [useLatestOnly(), useLatestOnly(), useLatestOnly()];
  const refresh = useCallback(() => {
    latestList(api.get<{ conversations: Conversation[] }>(listPath(view, principal.agentId, sub)))
      .then((r) => {
        setList(r.conversations);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
    latestQueued(api.get<{ conversations: Conversation[] }>('/conversations?status=queued'))
      .then((r) => setQueuedCount(r.conversations.length))
      .catch(() => setQueuedCount(null));
    if (principal.agentId)
      latestMe(api.get<Agent>(`/agents/${encodeURIComponent(principal.agentId)}`))
        .then(setMe)
        .catch(() => setMe(null));
  }, [view, sub, principal.agentId, latestList, latestQueued, latestMe]);

  useEffect(() => {
    setList(null);
    refresh();
  }, [refresh]);
  useLiveRefresh(refresh);

  const base = `/inbox/${view}`;
  const showList = !narrow || !selected;
  const showPane = !narrow || selected;

  return (
    <Stack gap="sm">
      {me && me.load >= me.receptionLimit ? <QueueBanner agent={me} onClaimed={refresh} /> : null}
      <Group align="flex-start" wrap="nowrap" gap="md">
        {showList ? (
          <Box w={narrow ? '100%' : 390} style={{ flexShrink: 0 }}>
            <Title order={2} size="h4" mb="xs">
              Inbox
            </Title>
            <Tabs value={view} onChange={(v) => v && navigate(`/inbox/${v}`)} keepMounted={false}>
              <Tabs.List aria-label="Inbox views">
                {VIEWS.map((v) => (
                  <Tabs.Tab key={v.value} value={v.value} px={8} fz="sm">
                    {v.label}
                    {v.value === 'queued' && queuedCount !== null ? (
                      <Badge size="xs" ml={4} color="yellow" variant="filled" autoContrast aria-label={`${queuedCount} in queue`}>
                        {queuedCount}
                      </Badge>
                    ) : null}
                  </Tabs.Tab>
                ))}
              </Tabs.List>
            </Tabs>
            {view === 'unassigned' ? (
              <SegmentedControl
                mt="xs"
                size="xs"
                fullWidth
                value={sub}
                onChange={(v) => setSub(v as 'all' | 'queued')}
                data={[
                  { value: 'all', label: 'Not in queue' },
                  { value: 'queued', label: `In queue${queuedCount !== null ? ` (${queuedCount})` : ''}` },
                ]}
                aria-label="Unassigned conversations"
              />
            ) : null}
            {error ? (
              <Alert color="red" mt="xs" role="alert">
                {error}
              </Alert>
            ) : null}
            <ConversationList
              list={list}
              base={base}
              selected={selected}
              claimable={view === 'queued' || view === 'unassigned'}
              onClaimed={refresh}
            />
          </Box>
        ) : null}
        {showPane ? (
          <Box style={{ flex: 1, minWidth: 0 }}>
            {selected ? (
              <>
                {narrow ? (
                  <Button variant="subtle" size="compact-sm" mb="xs" component="a" {...linkProps(base)}>
                    ← Back to the list
                  </Button>
                ) : null}
                <ConversationPane id={selected} onChanged={refresh} />
              </>
            ) : (
              <Paper withBorder p="xl">
                <Text c="dimmed">Choose a conversation.</Text>
              </Paper>
            )}
          </Box>
        ) : null}
      </Group>
    </Stack>
  );
}

function ConversationList(props: { list: Conversation[] | null; base: string; selected: string | null; claimable: boolean; onClaimed(): void }) {
  const { principal } = useSession();
  if (props.list === null) return <Loader size="sm" m="md" aria-label="Loading conversations" />;
  if (props.list.length === 0)
    return (
      <Text c="dimmed" p="md">
        No conversations here.
      </Text>
    );
  return (
    <ScrollArea.Autosize mah="calc(100vh - 220px)" mt="xs">
      <ul aria-label="Conversations" style={{ listStyle: 'none', margin: 0, padding: 0 }} data-testid="conversation-list">
        {props.list.map((c) => (
          <li key={c.id}>
            <Paper withBorder p="xs" mb={6} bg={props.selected === c.id ? 'var(--mantine-color-teal-light)' : undefined} data-conversation-id={c.id}>
              <Group justify="space-between" wrap="nowrap" gap="xs">
                <UnstyledButton component="a" {...linkProps(`${props.base}/${c.id}`)} style={{ flex: 1, minWidth: 0 }}>
                  <Text fw={600} truncate>
                    {c.position ? `${c.position}. ` : ''}
                    {contactLabel(c)}
                  </Text>
                  <Text size="xs" c="dimmed" truncate>
                    {contactSecondary(c) ?? ''} {c.agentId ? `· ${c.agentId}` : ''} · {formatTime(c.lastCustomerMessageAt ?? c.openedAt)}
                  </Text>
                </UnstyledButton>
                <Stack gap={4} align="flex-end">
                  <Badge size="sm" color={STATUS_COLOR[c.status] ?? 'gray'} variant="light">
                    {c.status === 'queued' ? 'in queue' : c.status}
                  </Badge>
                  {props.claimable && principal.agentId && (c.status === 'queued' || c.status === 'unassigned') ? (
                    <ClaimButton conversation={c} agentId={principal.agentId} onClaimed={props.onClaimed} />
                  ) : null}
                </Stack>
              </Group>
            </Paper>
          </li>
        ))}
      </ul>
    </ScrollArea.Autosize>
  );
}

export function ClaimButton({ conversation, agentId, onClaimed }: { conversation: Conversation; agentId: string; onClaimed(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <Button
        size="compact-xs"
        loading={busy}
        aria-label={`Claim conversation with ${contactLabel(conversation)}`}
        onClick={() => {
          setBusy(true);
          setError(null);
          api
            .post(`/conversations/${conversation.id}/claim`, { agentId })
            .then(() => {
              onClaimed();
              navigate(`/inbox/mine/${conversation.id}`);
            })
            .catch((e: Error) => setError(e.message))
            .finally(() => setBusy(false));
        }}
      >
        Claim
      </Button>
      {error ? (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      ) : null}
    </>
  );
}

/** "Method 1": at their limit, the agent sees how many people wait in their numbers' queues and claims one. */
function QueueBanner({ agent, onClaimed }: { agent: Agent; onClaimed(): void }) {
  const [open, setOpen] = useState(false);
  const [queue, setQueue] = useState<Conversation[] | null>(null);
  useEffect(() => {
    if (!open) return;
    api
      .get<{ conversations: Conversation[] }>('/conversations?status=queued')
      .then((r) => setQueue(r.conversations))
      .catch(() => setQueue([]));
  }, [open, agent.queued]);
  return (
    <>
      <Alert color="yellow" variant="light" p="xs" data-testid="queue-banner">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Text size="sm">
            {agent.load > agent.receptionLimit
              ? // R6: a claim may take an agent past their limit; new conversations wait until they are below it.
                `You hold ${agent.load} conversations, over your limit of ${agent.receptionLimit}: new ones wait in the queue until you close some.`
              : `You are at your limit (${agent.load} of ${agent.receptionLimit}): new conversations wait in the queue.`}
          </Text>
          <Button size="compact-sm" color="yellow" variant="filled" autoContrast onClick={() => setOpen(true)} disabled={agent.queued === 0}>
            {agent.queued} {agent.queued === 1 ? 'person' : 'people'} in queue
          </Button>
        </Group>
      </Alert>
      <Modal opened={open} onClose={() => setOpen(false)} title="People in queue" closeButtonProps={{ 'aria-label': 'Close' }}>
        {queue === null ? (
          <Loader size="sm" aria-label="Loading the queue" />
        ) : queue.length === 0 ? (
          <Text c="dimmed">Nobody is waiting.</Text>
        ) : (
          <Stack gap="xs">
            {queue.map((c, i) => (
              <Group key={c.id} justify="space-between" wrap="nowrap">
                <Text size="sm">
                  {c.position ?? i + 1}. {contactLabel(c)} · waiting since {formatTime(c.queuedAt)}
                </Text>
                <ClaimButton
                  conversation={c}
                  agentId={agent.id}
                  onClaimed={() => {
                    setOpen(false);
                    onClaimed();
                  }}
                />
              </Group>
            ))}
          </Stack>
        )}
      </Modal>
    </>
  );
}
