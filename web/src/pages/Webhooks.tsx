import { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  Drawer,
  Fieldset,
  Group,
  List,
  Loader,
  Modal,
  Paper,
  PasswordInput,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { ApiError, type Delivery, type DeliveryOutcome, type Webhook, api, formatTime } from '../api';
import { useLatestOnly } from '../latest';

/**
 * The event types a subscription may name: OUTBOUND_EVENT_TYPES of
 * workflows/rules/vocabulary.ts, in its order (the browser test checks they match).
 */
export const EVENT_TYPES = [
  'conversation.opened',
  'conversation.routed',
  'conversation.reassigned',
  'conversation.closed',
  'message.received',
  'message.sent',
  'message.status',
  'automation.skipped',
  'csat.answered',
  'agent.status',
] as const;

const PHONE = '(max-width: 36em)';
const LOG_PAGE = 50;

interface Draft {
  id: string;
  url: string;
  secret: string;
  events: string[];
  numbers: string;
  enabled: boolean;
  disabledReason: string | null;
  isNew: boolean;
}

const blankDraft = (): Draft => ({ id: '', url: '', secret: '', events: [], numbers: '', enabled: true, disabledReason: null, isNew: true });

function toDraft(w: Webhook): Draft {
  return {
    id: w.id,
    url: w.url,
    secret: '',
    events: EVENT_TYPES.filter((t) => w.events.includes(t)),
    numbers: w.phoneNumberIds?.join(', ') ?? '',
    enabled: w.enabled,
    disabledReason: w.enabled ? null : w.disabledReason,
    isNew: false,
  };
}

export function WebhooksPage() {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [logOf, setLogOf] = useState<Webhook | null>(null);
  const refresh = useCallback(() => {
    api
      .get<{ webhooks: Webhook[] }>('/webhooks')
      .then((r) => {
        setWebhooks(r.webhooks);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(refresh, [refresh]);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Webhooks</Title>
        <Button
          onClick={() => {
            setNotice(null);
            setDraft(blankDraft());
          }}
        >
          New subscription
        </Button>
      </Group>
      <Text size="sm" c="dimmed" maw={760}>
        Subscriptions send the service’s events to your own URL: a bot engine, a CRM, an alerting tool.
      </Text>
      <DeliveryHelp />
      {error ? (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      ) : null}
      <div role="status" aria-live="polite">
        {notice ? (
          <Text c="teal.9" fw={500}>
            {notice}
          </Text>
        ) : null}
      </div>
      {webhooks === null && !error ? <Loader aria-label="Loading the subscriptions" /> : null}
      {webhooks?.length === 0 ? <Text c="dimmed">No subscription yet: events are not sent anywhere.</Text> : null}
      {webhooks && webhooks.length > 0 ? (
        <Stack component="ul" gap="sm" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Subscriptions">
          {webhooks.map((w) => (
            <SubscriptionCard
              key={w.id}
              webhook={w}
              onLog={() => setLogOf(w)}
              onEdit={() => {
                setNotice(null);
                setDraft(toDraft(w));
              }}
              onDelete={() => {
                setNotice(null);
                setDeleting(w);
              }}
            />
          ))}
        </Stack>
      ) : null}
      {draft ? (
        <WebhookForm
          draft={draft}
          onClose={() => setDraft(null)}
          onSaved={(w, created) => {
            setDraft(null);
            setNotice(`${created ? 'Created' : 'Saved'} subscription ${w.id}${w.enabled ? '' : ' (disabled)'}.`);
            refresh();
          }}
        />
      ) : null}
      {deleting ? (
        <DeleteConfirmation
          webhook={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setNotice(`Deleted subscription ${deleting.id}.`);
            setDeleting(null);
            if (logOf?.id === deleting.id) setLogOf(null);
            refresh();
          }}
        />
      ) : null}
      <DeliveryLog webhook={logOf} onClose={() => setLogOf(null)} />
    </Stack>
  );
}

/** A header name, kept on one line. */
function Header({ children }: { children: React.ReactNode }) {
  return <Code style={{ whiteSpace: 'nowrap' }}>{children}</Code>;
}

function DeliveryHelp() {
  return (
    <Alert color="gray" variant="light" title="How deliveries are signed and retried" maw={760} role="region">
      <List size="sm" spacing={4}>
        <List.Item>
          Each event is a <Code>POST</Code> of <Code>{'{"id","type","occurredAt","data"}'}</Code> with <Header>X-Autopilot-Event-Id</Header>,{' '}
          <Header>X-Autopilot-Timestamp</Header> (Unix seconds) and <Header>X-Autopilot-Signature: sha256=&lt;hex&gt;</Header>, the HMAC-SHA256 of{' '}
          <Code>"&lt;timestamp&gt;.&lt;body&gt;"</Code> with the subscription’s secret. Check it on the raw body; refuse old timestamps.
        </List.Item>
        <List.Item>
          Delivery is at least once (drop repeats by event id) and in order per conversation. An answer other than 2xx, or none within 10 s, is
          retried with exponential backoff (each wait doubling, at most an hour) for 24 hours, then recorded as failed.
        </List.Item>
        <List.Item>
          A <Code>410 Gone</Code> answer disables the subscription; edit it and save with “Enabled” on to re-enable it.
        </List.Item>
      </List>
    </Alert>
  );
}

function SubscriptionCard({ webhook: w, onLog, onEdit, onDelete }: { webhook: Webhook; onLog(): void; onEdit(): void; onDelete(): void }) {
  const headingId = `webhook-${w.id}`;
  const allEvents = EVENT_TYPES.every((t) => w.events.includes(t));
  return (
    <Paper component="li" withBorder p="md" aria-labelledby={headingId} data-webhook={w.id}>
      <Stack gap="xs">
        <Group justify="space-between" gap="xs">
          <Title order={3} size="h4" id={headingId} style={{ overflowWrap: 'anywhere' }}>
            {w.id}
          </Title>
          <Badge color={w.enabled ? 'teal' : 'red'} variant="filled">
            {w.enabled ? 'Enabled' : 'Disabled'}
          </Badge>
        </Group>
        {w.enabled ? null : (
          <Alert color="red" variant="light" p="xs" role="note" title={w.disabledReason ? `Disabled: ${w.disabledReason}` : 'Disabled by an admin'}>
            <Text size="sm">No events are kept for it while it is disabled. Edit it and save with “Enabled” on to re-enable it.</Text>
          </Alert>
        )}
        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
          <Text span c="dimmed" size="sm">
            URL{' '}
          </Text>
          <Code>{w.url}</Code>
        </Text>
        <Group gap={6} align="center">
          <Text span c="dimmed" size="sm">
            Events
          </Text>
          {allEvents ? (
            <Badge variant="outline" color="gray.8">
              all {EVENT_TYPES.length} event types
            </Badge>
          ) : (
            w.events.map((t) => (
              <Badge key={t} variant="outline" color="gray.8" tt="none">
                {t}
              </Badge>
            ))
          )}
        </Group>
        <Text size="sm">
          <Text span c="dimmed" size="sm">
            Numbers{' '}
          </Text>
          {w.phoneNumberIds?.join(', ') ?? 'all numbers'}
        </Text>
        <Group gap="xs">
          <Button size="compact-sm" variant="light" onClick={onLog} aria-label={`Delivery log of ${w.id}`}>
            Delivery log
          </Button>
          <Button size="compact-sm" variant="default" onClick={onEdit} aria-label={`Edit ${w.id}`}>
            Edit
          </Button>
          <Button size="compact-sm" variant="subtle" color="red" onClick={onDelete} aria-label={`Delete ${w.id}`}>
            Delete
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** Where a server field error shows: error.details names url, secret, events[1], phoneNumberIds[0], path.webhookId… */
function fieldOf(field: string): 'id' | 'url' | 'secret' | 'events' | 'numbers' | 'enabled' | null {
  const f = field.replace(/^body\./, '');
  if (f === 'webhookId' || f === 'path.webhookId') return 'id';
  if (f === 'url' || f === 'secret' || f === 'enabled') return f;
  if (/^events(\[\d+\])?$/.test(f)) return 'events';
  if (/^phoneNumberIds(\[\d+\])?$/.test(f)) return 'numbers';
  return null;
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function WebhookForm({ draft: initial, onClose, onSaved }: { draft: Draft; onClose(): void; onSaved(w: Webhook, created: boolean): void }) {
  const [d, setD] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [secretVisible, setSecretVisible] = useState(false);
  const phone = useMediaQuery(PHONE);
  const all = EVENT_TYPES.every((t) => d.events.includes(t));

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setErrors({});
    setMessage(null);
    // Without an id there is no URL to PUT to; everything else the server checks.
    if (!d.id.trim()) {
      setErrors({ id: 'Enter an id for the subscription.' });
      return;
    }
    setBusy(true);
    const numbers = d.numbers
      .split(/[\s,]+/)
      .map((n) => n.trim())
      .filter(Boolean);
    try {
      // One PUT: the server saves all of it or, refusing any field, none of it.
      const saved = await api.put<Webhook>(`/webhooks/${encodeURIComponent(d.id.trim())}`, {
        url: d.url.trim(),
        secret: d.secret,
        events: d.events,
        phoneNumberIds: numbers.length ? numbers : null,
        enabled: d.enabled,
      });
      onSaved(saved, d.isNew);
    } catch (err) {
      if (err instanceof ApiError && err.details.length) {
        const byField: Record<string, string> = {};
        const others: string[] = [];
        for (const x of err.details) {
          const f = fieldOf(x.field);
          const item = /\[(\d+)\]$/.exec(x.field);
          // events[1] / phoneNumberIds[0]: name the value the message is about.
          const value = item ? (f === 'events' ? d.events : numbers)[Number(item[1])] : undefined;
          const text = value === undefined ? x.message : `${value}: ${x.message}`;
          if (f) byField[f] = byField[f] ? `${byField[f]}; ${text}` : text;
          else others.push(`${x.field}: ${x.message}`);
        }
        setErrors(byField);
        setMessage(
          others.length
            ? `Not saved: ${err.message} (${others.join('; ')}). Nothing was changed.`
            : 'Not saved: the server refused the fields marked below. Nothing was changed.',
        );
      } else {
        setMessage(`Not saved: ${err instanceof Error ? err.message : String(err)}`);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      opened
      onClose={onClose}
      size="lg"
      fullScreen={Boolean(phone)}
      title={d.isNew ? 'New subscription' : `Edit ${initial.id}`}
      closeButtonProps={{ 'aria-label': 'Close' }}
    >
      <form onSubmit={(e) => void save(e)} noValidate>
        <Stack gap="sm">
          {message ? (
            <Alert color="red" role="alert">
              {message}
            </Alert>
          ) : null}
          {d.isNew ? (
            <TextInput
              label="Id"
              description="1–64 letters, digits, or . _ - (it names the subscription in the API)"
              value={d.id}
              onChange={(e) => setD({ ...d, id: e.currentTarget.value })}
              error={errors.id}
              required
              autoComplete="off"
              data-autofocus
            />
          ) : null}
          <TextInput
            label="URL"
            description="https; http only to localhost / 127.0.0.1 (or with ALLOW_HTTP_WEBHOOKS). Redirects are not followed."
            value={d.url}
            onChange={(e) => setD({ ...d, url: e.currentTarget.value })}
            error={errors.url}
            required
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
          />
          <div>
            <PasswordInput
              label={d.isNew ? 'Secret' : 'Secret (enter it again)'}
              description={
                d.isNew
                  ? '16–256 characters; it signs every delivery and is never shown again, so keep a copy for the receiver.'
                  : 'Required on every save: the secret is never shown back. Enter the same one to keep signatures as they are, or a new one to rotate it.'
              }
              value={d.secret}
              onChange={(e) => setD({ ...d, secret: e.currentTarget.value })}
              visible={secretVisible}
              onVisibilityChange={setSecretVisible}
              error={errors.secret}
              required
              autoComplete="new-password"
              spellCheck={false}
            />
            <Button
              variant="subtle"
              size="compact-xs"
              mt={4}
              onClick={() => {
                setD({ ...d, secret: randomSecret() });
                setSecretVisible(true);
              }}
            >
              Generate a random secret
            </Button>
          </div>
          <Fieldset legend="Event types" variant="filled" p="sm">
            <Checkbox
              label="All event types"
              checked={all}
              indeterminate={!all && d.events.length > 0}
              onChange={(e) => setD({ ...d, events: e.currentTarget.checked ? [...EVENT_TYPES] : [] })}
              mb="xs"
            />
            <Checkbox.Group value={d.events} onChange={(v) => setD({ ...d, events: EVENT_TYPES.filter((t) => v.includes(t)) })} error={errors.events}>
              <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="xs" verticalSpacing={6} mt={4}>
                {EVENT_TYPES.map((t) => (
                  <Checkbox key={t} value={t} label={t} />
                ))}
              </SimpleGrid>
            </Checkbox.Group>
          </Fieldset>
          <TextInput
            label="Numbers"
            description="phone_number_ids, comma-separated; empty: all numbers"
            value={d.numbers}
            onChange={(e) => setD({ ...d, numbers: e.currentTarget.value })}
            error={errors.numbers}
            autoComplete="off"
          />
          {d.disabledReason ? (
            <Alert color="red" variant="light" p="xs" role="note" title={`Disabled: ${d.disabledReason}`}>
              <Text size="sm">Turn “Enabled” on and save to re-enable it. Events from while it was disabled are not sent.</Text>
            </Alert>
          ) : null}
          <Switch
            label="Enabled"
            description={d.enabled ? 'Events are delivered.' : 'No events are kept or sent while it is off.'}
            checked={d.enabled}
            onChange={(e) => setD({ ...d, enabled: e.currentTarget.checked })}
            error={errors.enabled}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteConfirmation({ webhook, onClose, onDeleted }: { webhook: Webhook; onClose(): void; onDeleted(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal opened onClose={onClose} title={`Delete subscription ${webhook.id}?`} closeButtonProps={{ 'aria-label': 'Close' }}>
      <Stack gap="sm">
        {error ? (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        ) : null}
        <Text size="sm">
          <Code style={{ overflowWrap: 'anywhere' }}>{webhook.url}</Code> gets no more events. Its pending deliveries and its delivery log are deleted
          with it.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-autofocus>
            Cancel
          </Button>
          <Button
            color="red"
            loading={busy}
            onClick={() => {
              setBusy(true);
              setError(null);
              api
                .del(`/webhooks/${encodeURIComponent(webhook.id)}`)
                .then(onDeleted)
                .catch((e: Error) => {
                  setError(e.message);
                  setBusy(false);
                });
            }}
          >
            Delete
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

// Filled badges whose text passes WCAG AA contrast (retry: dark text on yellow).
const OUTCOME_COLOR: Record<DeliveryOutcome, string> = { delivered: 'teal', retry: 'yellow.5', failed: 'red', gone: 'grape' };
const OUTCOME_HELP: Record<DeliveryOutcome, string> = {
  delivered: 'the subscriber answered 2xx',
  retry: 'it will be tried again',
  failed: '24 hours of retries ended',
  gone: 'the subscriber answered 410: the subscription was disabled',
};

/** The attempt's error when it says more than its status ("HTTP 500" does not; a timeout or a redirect does). */
function extraError(x: Delivery): string | null {
  return x.error && x.error !== `HTTP ${x.status}` ? x.error : null;
}

function OutcomeBadge({ outcome }: { outcome: DeliveryOutcome }) {
  return (
    <Badge color={OUTCOME_COLOR[outcome]} variant="filled" autoContrast title={OUTCOME_HELP[outcome]}>
      {outcome}
    </Badge>
  );
}

/** The log at a phone's width: one block per attempt instead of seven columns. */
function AttemptList({ deliveries }: { deliveries: Delivery[] }) {
  return (
    <Stack component="ul" gap="xs" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Delivery attempts">
      {deliveries.map((x) => (
        <Paper component="li" key={x.id} withBorder p="xs" data-outcome={x.outcome}>
          <Group justify="space-between" gap="xs" wrap="nowrap">
            <Group gap="xs" wrap="nowrap">
              <OutcomeBadge outcome={x.outcome} />
              <Text size="sm" fw={600}>
                {x.status === null ? 'no answer' : `HTTP ${x.status}`}
              </Text>
            </Group>
            <Text size="sm" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
              <time dateTime={x.at} title={x.at}>
                {formatTime(x.at, true)}
              </time>
            </Text>
          </Group>
          {extraError(x) ? (
            <Text size="xs" c="red.9" style={{ overflowWrap: 'anywhere' }}>
              {x.error}
            </Text>
          ) : null}
          <Text size="sm">
            {x.type} · attempt {x.attempt} · {x.latencyMs} ms
          </Text>
          <Code style={{ wordBreak: 'break-all' }}>{x.eventId}</Code>
        </Paper>
      ))}
    </Stack>
  );
}

function DeliveryLog({ webhook, onClose }: { webhook: Webhook | null; onClose(): void }) {
  const phone = useMediaQuery(PHONE);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState<'refresh' | 'older' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = webhook?.id ?? null;
  const latestOnly = useLatestOnly();

  const load = useCallback(
    (before: string | null) => {
      if (!id) return;
      setBusy(before ? 'older' : 'refresh');
      setError(null);
      const query = `limit=${LOG_PAGE}${before ? `&before=${encodeURIComponent(before)}` : ''}`;
      latestOnly(api.get<{ deliveries: Delivery[]; nextCursor: string | null }>(`/webhooks/${encodeURIComponent(id)}/deliveries?${query}`))
        .then((r) => {
          setDeliveries((earlier) => (before ? [...(earlier ?? []), ...r.deliveries] : r.deliveries));
          setCursor(r.nextCursor);
        })
        .catch((e: Error) => setError(e.message))
        .finally(() => setBusy(null));
    },
    [id, latestOnly],
  );

  useEffect(() => {
    setDeliveries(null);
    setCursor(null);
    load(null);
  }, [load]);

  return (
    <Drawer
      opened={webhook !== null}
      onClose={onClose}
      position="right"
      size={phone ? '100%' : 1080}
      title={`Delivery log: ${webhook?.id ?? ''}`}
      closeButtonProps={{ 'aria-label': 'Close the delivery log' }}
    >
      {webhook ? (
        <Stack gap="sm">
          <Text size="sm" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
            Every attempt to <Code>{webhook.url}</Code>, newest first.
          </Text>
          {webhook.enabled ? null : (
            <Alert
              color="red"
              variant="light"
              p="xs"
              role="note"
              title={webhook.disabledReason ? `Disabled: ${webhook.disabledReason}` : 'Disabled by an admin'}
            />
          )}
          <Group justify="space-between">
            <Text size="sm" role="status" aria-live="polite">
              {deliveries === null ? 'Loading…' : `${deliveries.length} attempt${deliveries.length === 1 ? '' : 's'} shown`}
            </Text>
            <Button size="compact-sm" variant="default" onClick={() => load(null)} loading={busy === 'refresh'}>
              Refresh
            </Button>
          </Group>
          {error ? (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          ) : null}
          {deliveries && deliveries.length === 0 ? <Text c="dimmed">No delivery yet: attempts show here as they are made.</Text> : null}
          {deliveries && deliveries.length > 0 && phone ? <AttemptList deliveries={deliveries} /> : null}
          {deliveries && deliveries.length > 0 && !phone ? (
            // A region of its own, focusable, so a keyboard can scroll it sideways on a phone.
            <div role="region" aria-label="Delivery attempts, scrollable" tabIndex={0} style={{ overflowX: 'auto' }}>
              <Table striped aria-label="Delivery attempts" miw={860} verticalSpacing={6} style={{ whiteSpace: 'nowrap' }}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Time</Table.Th>
                    <Table.Th scope="col">Event type</Table.Th>
                    <Table.Th scope="col">Event id</Table.Th>
                    <Table.Th scope="col">Attempt</Table.Th>
                    <Table.Th scope="col">HTTP status</Table.Th>
                    <Table.Th scope="col">Latency (ms)</Table.Th>
                    <Table.Th scope="col">Outcome</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {deliveries.map((x) => (
                    <Table.Tr key={x.id} data-outcome={x.outcome}>
                      <Table.Td>
                        <time dateTime={x.at} title={x.at}>
                          {formatTime(x.at, true)}
                        </time>
                      </Table.Td>
                      <Table.Td>{x.type}</Table.Td>
                      <Table.Td>
                        <Code>{x.eventId}</Code>
                      </Table.Td>
                      <Table.Td>{x.attempt}</Table.Td>
                      <Table.Td>
                        {x.status ?? null}
                        {extraError(x) ? (
                          <Text size="xs" c="red.9" style={{ whiteSpace: 'normal', overflowWrap: 'anywhere' }} maw={260}>
                            {x.error}
                          </Text>
                        ) : null}
                      </Table.Td>
                      <Table.Td>{x.latencyMs}</Table.Td>
                      <Table.Td>
                        <OutcomeBadge outcome={x.outcome} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </div>
          ) : null}
          {cursor ? (
            <Button variant="default" onClick={() => load(cursor)} loading={busy === 'older'} style={{ alignSelf: 'flex-start' }}>
              Load older
            </Button>
          ) : deliveries && deliveries.length > 0 ? (
            <Text size="xs" c="dimmed">
              That is the whole log.
            </Text>
          ) : null}
        </Stack>
      ) : null}
    </Drawer>
  );
}
