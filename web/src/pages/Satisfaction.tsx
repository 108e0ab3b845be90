import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Grid, Group, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { ApiError, type CsatAnswer, type CsatReport, api, request } from '../api';
import { useLiveRefresh } from '../live';
import { useLatestOnly } from '../latest';

const LABELS: Record<number, string> = { 5: 'Very satisfied', 4: 'Satisfied', 3: 'Neutral', 2: 'Dissatisfied', 1: 'Very dissatisfied' };

function query(f: { phoneNumberId: string; agentId: string; from: string; to: string }, dates: boolean): string {
  const q = new URLSearchParams();
  if (f.phoneNumberId) q.set('phoneNumberId', f.phoneNumberId);
  if (f.agentId) q.set('agentId', f.agentId);
  if (dates && f.from) q.set('from', new Date(`${f.from}T00:00:00`).toISOString());
  if (dates && f.to) q.set('to', new Date(`${f.to}T23:59:59.999`).toISOString());
  const s = q.toString();
  return s ? `?${s}` : '';
}

function inRange(a: CsatAnswer, from: string, to: string): boolean {
  const t = new Date(a.answeredAt).getTime();
  if (from && t < new Date(`${from}T00:00:00`).getTime()) return false;
  if (to && t > new Date(`${to}T23:59:59.999`).getTime()) return false;
  return true;
}

function group(answers: CsatAnswer[], key: (a: CsatAnswer) => string) {
  const by = new Map<string, { count: number; total: number }>();
  for (const a of answers) {
    const k = key(a);
    const g = by.get(k) ?? { count: 0, total: 0 };
    g.count++;
    g.total += Number(a.score);
    by.set(k, g);
  }
  return [...by.entries()].map(([k, g]) => ({ key: k, count: g.count, average: g.total / g.count })).sort((a, b) => b.count - a.count);
}

export function SatisfactionPage() {
  const [filters, setFilters] = useState({ phoneNumberId: '', agentId: '', from: '', to: '' });
  const [answers, setAnswers] = useState<CsatAnswer[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [serverDates, setServerDates] = useState(true);

  const latestOnly = useLatestOnly();
  const refresh = useCallback(() => {
    latestOnly(api.get<CsatReport>(`/csat${query(filters, serverDates)}`))
      .then((r) => {
        setAnswers(r.answers.filter((a) => inRange(a, filters.from, filters.to)));
        setError(null);
      })
      .catch((e: unknown) => {
        // A server without the date range filter: filter here instead.
        if (e instanceof ApiError && e.status === 400 && serverDates && e.details.some((d) => /from|to/.test(d.field))) setServerDates(false);
        else setError(e instanceof Error ? e.message : String(e));
      });
  }, [filters, serverDates, latestOnly]);
  useEffect(refresh, [refresh]);
  useLiveRefresh(refresh, 10000);

  const stats = useMemo(() => {
    const list = answers ?? [];
    const distribution = [5, 4, 3, 2, 1].map((s) => ({ score: s, count: list.filter((a) => Number(a.score) === s).length }));
    const average = list.length ? list.reduce((t, a) => t + Number(a.score), 0) / list.length : null;
    return {
      count: list.length,
      average,
      distribution,
      perAgent: group(list, (a) => a.agentId ?? '—'),
      perNumber: group(list, (a) => a.phoneNumberId),
    };
  }, [answers]);

  async function exportCsv() {
    let csv: string;
    try {
      csv = await request<string>('GET', `/csat${query(filters, serverDates)}`, undefined, 'text/csv');
      if (csv.trimStart().startsWith('{')) throw new Error('json');
    } catch {
      csv = [
        'conversationId,phoneNumberId,agentId,score,answeredAt',
        ...(answers ?? []).map((a) => [a.conversationId, a.phoneNumberId, a.agentId ?? '', a.score, a.answeredAt].join(',')),
      ].join('\n');
    }
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'satisfaction.csv';
    link.click();
    URL.revokeObjectURL(url);
  }

  const max = Math.max(1, ...stats.distribution.map((d) => d.count));
  return (
    <Stack>
      <Title order={2}>Satisfaction</Title>
      <Group align="flex-end" wrap="wrap" gap="sm">
        <TextInput label="From" type="date" value={filters.from} onChange={(e) => setFilters({ ...filters, from: e.currentTarget.value })} />
        <TextInput label="To" type="date" value={filters.to} onChange={(e) => setFilters({ ...filters, to: e.currentTarget.value })} />
        <TextInput
          label="Number"
          placeholder="any"
          value={filters.phoneNumberId}
          onChange={(e) => setFilters({ ...filters, phoneNumberId: e.currentTarget.value.trim() })}
        />
        <TextInput
          label="Agent"
          placeholder="any"
          value={filters.agentId}
          onChange={(e) => setFilters({ ...filters, agentId: e.currentTarget.value.trim() })}
        />
        <Button variant="default" onClick={() => void exportCsv()}>
          Export CSV
        </Button>
      </Group>
      {error ? (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      ) : null}
      <Grid>
        <Grid.Col span={{ base: 12, sm: 4 }}>
          <Paper withBorder p="md">
            <Text size="sm" c="dimmed">
              Average
            </Text>
            <Text size="xl" fw={700} data-testid="csat-average">
              {stats.average === null ? '—' : stats.average.toFixed(2)}
            </Text>
            <Text size="sm">{stats.count} answers</Text>
          </Paper>
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 8 }}>
          <Paper withBorder p="md">
            <Text size="sm" c="dimmed" id="dist-title">
              Distribution
            </Text>
            <svg viewBox="0 0 320 150" width="100%" role="img" aria-labelledby="dist-title dist-desc" style={{ maxWidth: 480 }}>
              <desc id="dist-desc">{stats.distribution.map((d) => `${d.score} ${LABELS[d.score]}: ${d.count}`).join(', ')}</desc>
              {stats.distribution.map((d, i) => {
                const w = (d.count / max) * 180;
                return (
                  <g key={d.score} transform={`translate(0, ${i * 28 + 4})`}>
                    <text x="0" y="15" fontSize="11" fill="#333">
                      {d.score} {LABELS[d.score]}
                    </text>
                    <rect x="112" y="3" width={Math.max(w, 1)} height="16" rx="3" fill="#0ca678" />
                    <text x={118 + w} y="15" fontSize="11" fill="#333">
                      {d.count}
                    </text>
                  </g>
                );
              })}
            </svg>
          </Paper>
        </Grid.Col>
      </Grid>
      <Grid>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Breakdown title="Per agent" rows={stats.perAgent} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <Breakdown title="Per number" rows={stats.perNumber} />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function Breakdown({ title, rows }: { title: string; rows: { key: string; count: number; average: number }[] }) {
  return (
    <Paper withBorder p="md">
      <Title order={3} size="h5">
        {title}
      </Title>
      <Table aria-label={title}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">{title === 'Per agent' ? 'Agent' : 'Number'}</Table.Th>
            <Table.Th scope="col">Answers</Table.Th>
            <Table.Th scope="col">Average</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.key}>
              <Table.Td>{r.key}</Table.Td>
              <Table.Td>{r.count}</Table.Td>
              <Table.Td>{r.average.toFixed(2)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No answers in this range.
        </Text>
      ) : null}
    </Paper>
  );
}
