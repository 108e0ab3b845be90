import { useEffect, useState } from 'react';
import { Alert, Anchor, Loader, Stack, Table, Text, Title } from '@mantine/core';
import { type Conversation, api } from '../api';
import { linkProps } from '../router';

/** The numbers seen in conversations, each linking to its automation settings. */
export function NumbersPage() {
  const [numbers, setNumbers] = useState<{ id: string; open: number; total: number }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .get<{ conversations: Conversation[] }>('/conversations?limit=200')
      .then((r) => {
        const by = new Map<string, { id: string; open: number; total: number }>();
        for (const c of r.conversations) {
          const n = by.get(c.phoneNumberId) ?? { id: c.phoneNumberId, open: 0, total: 0 };
          n.total++;
          if (c.status !== 'closed') n.open++;
          by.set(c.phoneNumberId, n);
        }
        setNumbers([...by.values()].sort((a, b) => a.id.localeCompare(b.id)));
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <Stack>
      <Title order={2}>Numbers</Title>
      <Text c="dimmed" size="sm">
        The WhatsApp numbers this service has received messages on. Open one to edit its automation.
      </Text>
      {error ? (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      ) : null}
      {numbers === null && !error ? <Loader aria-label="Loading numbers" /> : null}
      {numbers && numbers.length === 0 ? <Text>No number has received a message yet.</Text> : null}
      {numbers && numbers.length > 0 ? (
        <Table aria-label="Numbers" maw={640}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Number (phone_number_id)</Table.Th>
              <Table.Th scope="col">Open</Table.Th>
              <Table.Th scope="col">Recent conversations</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {numbers.map((n) => (
              <Table.Tr key={n.id}>
                <Table.Td>
                  <Anchor {...linkProps(`/numbers/${encodeURIComponent(n.id)}/settings`)}>{n.id}</Anchor>
                </Table.Td>
                <Table.Td>{n.open}</Table.Td>
                <Table.Td>{n.total}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : null}
    </Stack>
  );
}
