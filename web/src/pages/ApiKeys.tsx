import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Code, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { ApiError, api } from '../api';

interface Key {
  id: string;
  name: string;
  role: string;
  phoneNumberIds?: string[] | null;
  createdAt?: string;
}

export function ApiKeysPage() {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [unsupported, setUnsupported] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<'admin' | 'bot'>('bot');
  const [created, setCreated] = useState<string | null>(null);
  const refresh = useCallback(() => {
    api
      .get<{ apiKeys?: Key[]; keys?: Key[] } | Key[]>('/api-keys')
      .then((r) => setKeys(Array.isArray(r) ? r : (r.apiKeys ?? r.keys ?? [])))
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) setUnsupported(true);
        else setError(e instanceof Error ? e.message : String(e));
      });
  }, []);
  useEffect(refresh, [refresh]);

  if (unsupported)
    return (
      <Stack>
        <Title order={2}>API keys</Title>
        <Alert color="gray">This server does not manage API keys yet: the keys of API_KEYS (printed at start) are its admin keys.</Alert>
      </Stack>
    );
  return (
    <Stack>
      <Title order={2}>API keys</Title>
      {error ? (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      ) : null}
      {created ? (
        <Alert color="teal" title="Key created: copy it now, it is shown only once">
          <Code>{created}</Code>
        </Alert>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          api
            .post<{ key?: string; apiKey?: string }>('/api-keys', { name, role })
            .then((r) => {
              setCreated(r.key ?? r.apiKey ?? null);
              setName('');
              refresh();
            })
            .catch((err: Error) => setError(err.message));
        }}
      >
        <Group align="flex-end">
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <Select
            label="Role"
            value={role}
            data={['bot', 'admin']}
            allowDeselect={false}
            onChange={(v) => v && setRole(v as 'admin' | 'bot')}
            w={120}
          />
          <Button type="submit">Create key</Button>
        </Group>
      </form>
      <Table aria-label="API keys">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Role</Table.Th>
            <Table.Th scope="col">Numbers</Table.Th>
            <Table.Th scope="col">
              <span className="visually-hidden">Actions</span>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(keys ?? []).map((k) => (
            <Table.Tr key={k.id}>
              <Table.Td>{k.name}</Table.Td>
              <Table.Td>{k.role}</Table.Td>
              <Table.Td>{k.phoneNumberIds?.join(', ') ?? 'all'}</Table.Td>
              <Table.Td>
                <Button
                  size="compact-sm"
                  color="red"
                  variant="subtle"
                  onClick={() => void api.del(`/api-keys/${k.id}`).then(refresh)}
                  aria-label={`Revoke ${k.name}`}
                >
                  Revoke
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {keys?.length === 0 ? <Text c="dimmed">No keys created here yet.</Text> : null}
    </Stack>
  );
}
