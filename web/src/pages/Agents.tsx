import { useCallback, useEffect, useState } from 'react';
import { Alert, Badge, Button, Group, Modal, NumberInput, PasswordInput, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { ApiError, type Agent, api } from '../api';
import { useLiveRefresh } from '../live';

interface Draft {
  id: string;
  name: string;
  receptionLimit: number | '';
  status: 'online' | 'offline';
  numbers: string;
  password: string;
  isNew: boolean;
}

export function AgentsPage() {
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const refresh = useCallback(() => {
    api
      .get<{ agents: Agent[] }>('/agents')
      .then((r) => setAgents(r.agents))
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(refresh, [refresh]);
  useLiveRefresh(refresh, 5000);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Agents</Title>
        <Button onClick={() => setDraft({ id: '', name: '', receptionLimit: 5, status: 'offline', numbers: '', password: '', isNew: true })}>
          New agent
        </Button>
      </Group>
      {error ? (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      ) : null}
      <Table.ScrollContainer minWidth={520}>
        <Table striped highlightOnHover aria-label="Agents">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Agent</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Load / limit</Table.Th>
              <Table.Th scope="col">Numbers</Table.Th>
              <Table.Th scope="col">In queue</Table.Th>
              <Table.Th scope="col">
                <span className="visually-hidden">Actions</span>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(agents ?? []).map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>
                  <Text fw={500}>{a.name}</Text>
                  <Text size="xs" c="dimmed">
                    {a.id}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge color={a.status === 'online' ? 'teal' : 'gray'} variant="light">
                    {a.status}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {a.load} / {a.receptionLimit}
                </Table.Td>
                <Table.Td>{a.phoneNumberIds?.join(', ') ?? 'all numbers'}</Table.Td>
                <Table.Td>{a.queued}</Table.Td>
                <Table.Td>
                  <Button
                    size="compact-sm"
                    variant="default"
                    aria-label={`Edit ${a.name}`}
                    onClick={() =>
                      setDraft({
                        id: a.id,
                        name: a.name,
                        receptionLimit: a.receptionLimit,
                        status: a.status,
                        numbers: a.phoneNumberIds?.join(', ') ?? '',
                        password: '',
                        isNew: false,
                      })
                    }
                  >
                    Edit
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {agents?.length === 0 ? <Text c="dimmed">No agents yet.</Text> : null}
      {draft ? (
        <AgentForm
          draft={draft}
          onClose={() => setDraft(null)}
          onSaved={() => {
            setDraft(null);
            refresh();
          }}
        />
      ) : null}
    </Stack>
  );
}

function AgentForm({ draft: initial, onClose, onSaved }: { draft: Draft; onClose(): void; onSaved(): void }) {
  const [d, setD] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(null);
    try {
      const numbers = d.numbers
        .split(/[\s,]+/)
        .map((n) => n.trim())
        .filter(Boolean);
      await api.put(`/agents/${encodeURIComponent(d.id)}`, {
        name: d.name,
        receptionLimit: d.receptionLimit === '' ? null : d.receptionLimit,
        status: d.status,
        phoneNumberIds: numbers.length ? numbers : null,
      });
      if (d.password) {
        try {
          await api.put(`/users/${encodeURIComponent(d.id)}`, { role: 'agent', password: d.password, name: d.name, agentId: d.id });
        } catch (err) {
          if (err instanceof ApiError && err.status === 404)
            throw new ApiError(404, 'not_found', 'This server cannot set passwords yet (no /api/users).');
          throw err;
        }
      }
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.details.length)
        setErrors(Object.fromEntries(err.details.map((x) => [x.field.replace(/^body\./, ''), x.message])));
      setMessage(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal opened onClose={onClose} title={d.isNew ? 'New agent' : `Edit ${initial.name}`} closeButtonProps={{ 'aria-label': 'Close' }}>
      <form onSubmit={(e) => void save(e)}>
        <Stack gap="sm">
          {message ? (
            <Alert color="red" role="alert">
              {message}
            </Alert>
          ) : null}
          <TextInput
            label="Login (agent id)"
            value={d.id}
            disabled={!d.isNew}
            onChange={(e) => setD({ ...d, id: e.currentTarget.value })}
            error={errors.agentId}
            required
          />
          <TextInput label="Name" value={d.name} onChange={(e) => setD({ ...d, name: e.currentTarget.value })} error={errors.name} required />
          <NumberInput
            label="Reception limit (1–100)"
            value={d.receptionLimit}
            onChange={(v) => setD({ ...d, receptionLimit: v === '' ? '' : Number(v) })}
            error={errors.receptionLimit}
            allowDecimal={false}
          />
          <Select
            label="Status"
            value={d.status}
            data={['online', 'offline']}
            allowDeselect={false}
            onChange={(v) => v && setD({ ...d, status: v as Draft['status'] })}
          />
          <TextInput
            label="Numbers served"
            description="phone_number_ids, comma-separated; empty: every number"
            value={d.numbers}
            onChange={(e) => setD({ ...d, numbers: e.currentTarget.value })}
            error={errors.phoneNumberIds}
          />
          <PasswordInput
            label={d.isNew ? 'Password (at least 12 characters)' : 'New password (leave empty to keep)'}
            value={d.password}
            onChange={(e) => setD({ ...d, password: e.currentTarget.value })}
            error={errors.password}
            autoComplete="new-password"
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
