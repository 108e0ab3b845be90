/**
 * Replay, the work of a conversation woken after its run left the worker's sticky cache (a
 * timer among thousands of open conversations): every recorded conversation history of
 * test/fixtures/histories/ replayed REPLAY_REPEAT times (default 20) by the SDK's replayer,
 * which runs workflow code in a workflow thread as a worker does, REPLAY_ROUNDS times
 * (default 3), with the SDK's workflow stack traces on and off
 * (TEMPORAL_WORKFLOW_STACK_TRACES, src/temporal/worker.ts). Each setting runs in a process
 * of its own, started with the variable set, as a worker is. Prints the median round's wall
 * time and CPU per history. No server, no database.
 *   npm run bench -- replay
 */
import { spawnSync } from 'node:child_process';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_STACK_TRACES_VARIABLE } from '../src/temporal/worker';
import { historyFiles, loadHistory, replayable } from '../test/replay/histories';
import { workflowBundle } from '../test/support/environment';
import { fmt, percentile, printTable, runBench } from './support/bench-kit';

const REPEAT = Number(process.env.REPLAY_REPEAT ?? 20);
const ROUNDS = Number(process.env.REPLAY_ROUNDS ?? 3);

/** One round's figures, per replayed history. */
interface Round {
  histories: number;
  recorded: number;
  events: number;
  wallMs: number;
  cpuMs: number;
}

/** In a child: the rounds, one JSON line of per-history figures each. */
async function replayRounds(): Promise<void> {
  const bundle = await workflowBundle();
  const recorded = historyFiles()
    .map((file) => loadHistory(file))
    .filter((r) => r.workflowType === 'conversationWorkflow');
  const items = Array.from({ length: REPEAT }, () => recorded.map((r) => ({ history: replayable(r), workflowId: r.workflowId }))).flat();
  const events = items.reduce((n, i) => n + (i.history.events?.length ?? 0), 0);
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'bench-replay' }, items)) {
      if (result.error) throw result.error;
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    const line: Round = {
      histories: items.length,
      recorded: recorded.length,
      events,
      wallMs: wallMs / items.length,
      cpuMs: (used.user + used.system) / 1000 / items.length,
    };
    process.stdout.write(`ROUND ${JSON.stringify(line)}\n`);
  }
}

function measure(setting: 'on' | 'off'): Round[] {
  const child = spawnSync(process.execPath, ['--import', 'tsx', __filename], {
    env: { ...process.env, REPLAY_CHILD: '1', [WORKFLOW_STACK_TRACES_VARIABLE]: setting },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`the replay with stack traces ${setting} failed: ${child.stderr}`);
  return child.stdout
    .split('\n')
    .filter((l) => l.startsWith('ROUND '))
    .map((l) => JSON.parse(l.slice(6)) as Round);
}

runBench(async () => {
  if (process.env.REPLAY_CHILD) return replayRounds();
  const bySetting = (['on', 'off'] as const).map((setting) => ({ setting, rounds: measure(setting) }));
  const median = (rounds: Round[], figure: 'wallMs' | 'cpuMs') => {
    const values = rounds.map((r) => r[figure]);
    return fmt(percentile(values, 50), 2);
  };
  const rows = bySetting.flatMap(({ setting, rounds }): [string, string, string][] => [
    [`stack traces ${setting}: wall time per history, median round (ms)`, median(rounds, 'wallMs'), ''],
    [`stack traces ${setting}: CPU per history, median round (ms)`, median(rounds, 'cpuMs'), ''],
  ]);
  const first = bySetting[0].rounds[0];
  printTable(
    `replay: ${first.histories} conversation histories (${first.recorded} recorded × ${REPEAT}, ${first.events} events), ${ROUNDS} rounds`,
    rows,
    ['CPU: the replaying process (the replayer and its workflow thread), user + system.'],
  );
});
