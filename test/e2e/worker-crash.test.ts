/**
 * "All timers are durable (they survive restarts of every process)" (SPEC §3), tested the
 * hard way: the worker is a separate OS process (`src/main.ts worker`), as in production,
 * and it is killed with SIGKILL — no shutdown, no drain — while a conversation's R4 timer
 * is pending. The timer comes due while no worker runs; a new worker process must send
 * the delayed reply exactly once, and nothing may be sent while no worker runs.
 *
 * Real parts: a fresh PostgreSQL database, the Temporal CLI dev server, the API and the
 * worker as child processes, and the fake Graph API on loopback.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/temporal/client';
import { type RunningDevServer, startDevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/ports';
import { signWebhookBody } from '../../src/whatsapp/signature';
import { conversationStateQuery } from '../../workflows/conversation/contract';
import { eventually } from '../support/conversation-harness';
import { createTestDatabase, testLog } from '../support/environment';
import { FakeGraphApi } from '../support/fake-graph-api';
import { textWebhook } from '../support/running-service';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const APP_SECRET = 'crash-app-secret';
const PHONE_NUMBER_ID = '333000111';
const CUSTOMER = '5511977776666';
const DELAY_SECONDS = 8;
const DELAYED_REPLY = 'Sorry for the wait, someone will be with you shortly.';

interface ServiceProcess {
  role: 'worker' | 'api';
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('end to end: the worker process is killed while a timer is pending', function () {
  this.timeout(240_000);

  let dataDir: string | null = null;
  let devServer: RunningDevServer | null = null;
  let graph: FakeGraphApi | null = null;
  let client: Client | null = null;
  let db: Awaited<ReturnType<typeof createTestDatabase>>['db'];
  let childEnv: NodeJS.ProcessEnv;
  let apiUrl = '';
  const processes: ServiceProcess[] = [];
  // Last resort if mocha exits without running `after` (e.g. it is interrupted).
  const killAllNow = () => processes.forEach((p) => p.child.exitCode === null && p.child.signalCode === null && p.child.kill('SIGKILL'));

  /** Starts `src/main.ts <role>` as its own process and waits until it says it is running. */
  async function startProcess(role: ServiceProcess['role']): Promise<ServiceProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const started: ServiceProcess = { role, child, output, exited };
    processes.push(started);
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    const ready = await Promise.race([
      eventually(async () => output.join('').includes(`Inbox Autopilot is running (${role})`), 120_000, `the ${role} process to start`).then(
        () => true,
      ),
      exited.then(() => false),
    ]);
    if (!ready) throw new Error(`the ${role} process exited during start:\n${output.join('').slice(-4000)}`);
    return started;
  }

  async function stopProcess(p: ServiceProcess): Promise<void> {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGTERM');
    const timeout = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(timeout);
  }

  before(async () => {
    process.once('exit', killAllNow);
    dataDir = mkdtempSync(path.join(tmpdir(), 'inbox-autopilot-crash-'));
    const [database, temporalPort, uiPort, apiPort] = await Promise.all([createTestDatabase(), freePort(), freePort(), freePort()]);
    db = database.db;
    devServer = await startDevServer({ dataDir, port: temporalPort, uiPort, namespace: 'default', log: testLog });
    graph = await new FakeGraphApi().start();
    client = await connectClient({ address: devServer.address, namespace: 'default' });
    apiUrl = `http://127.0.0.1:${apiPort}`;
    childEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: devServer.address,
      TEMPORAL_NAMESPACE: 'default',
      WHATSAPP_ACCESS_TOKEN: 'crash-access-token',
      WHATSAPP_API_BASE_URL: graph.url,
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: 'crash-verify-token',
      API_KEYS: 'crash-api-key',
      PORT: String(apiPort),
      LOG_LEVEL: 'warn',
    };
    await Promise.all([startProcess('api'), startProcess('worker')]);
  });

  after(async () => {
    // Every step runs even if one before it fails, so nothing is left running.
    const steps: [string, () => Promise<unknown>][] = [
      ['child processes', () => Promise.all(processes.map((p) => stopProcess(p)))],
      ['Temporal client', async () => client?.connection.close()],
      ['Temporal dev server', async () => devServer?.stop()],
      ['fake Graph API', async () => graph?.stop()],
      ['data directory', async () => dataDir && rmSync(dataDir, { recursive: true, force: true })],
    ];
    const failures: string[] = [];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(`${what}: ${(error as Error).message}`);
      }
    }
    process.removeListener('exit', killAllNow);
    assert.deepEqual(failures, [], 'everything stopped');
    for (const p of processes)
      assert.ok(p.child.exitCode !== null || p.child.signalCode !== null, `the ${p.role} process (pid ${p.child.pid}) has exited`);
  });

  it('fires the R4 timer exactly once, from a new worker process, after the old one was SIGKILLed', async () => {
    await db('automation_settings').insert({
      phone_number_id: PHONE_NUMBER_ID,
      settings: JSON.stringify({
        unassignedReply: { enabled: true, delaySeconds: DELAY_SECONDS, message: { type: 'text', text: { body: DELAYED_REPLY } } },
      }),
    });
    const body = JSON.stringify(textWebhook({ wamid: 'wamid.CRASH-1', from: CUSTOMER, body: 'is anyone there?', phoneNumberId: PHONE_NUMBER_ID }));
    const response = await fetch(`${apiUrl}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, APP_SECRET) },
      body,
    });
    assert.equal(response.status, 200);

    const conversation = await eventually(
      () => db('conversations').where({ phone_number_id: PHONE_NUMBER_ID }).first(),
      30_000,
      'the conversation row',
    );
    const handle = client!.workflow.getHandle(conversation.workflow_id);
    // The conversation was routed (no agent: unassigned) and its R4 timer is armed.
    const state = await eventually(
      async () => {
        const s = await handle.query(conversationStateQuery);
        return s?.status === 'unassigned' && s.unassignedReplyOwedSince !== null ? s : undefined;
      },
      30_000,
      'the conversation to be unassigned with its reply owed',
    );
    await eventually(async () => (await timerEvents(handle)).started >= 1, 10_000, 'the timer in the workflow history');
    const deadline = state.unassignedReplyOwedSince! + DELAY_SECONDS * 1000;
    assert.ok(Date.now() < deadline - 1000, `the timer is still pending when the worker dies (${deadline - Date.now()} ms left)`);
    assert.equal(graph!.messageRequests().length, 0, 'nothing sent before the deadline');

    const worker = processes.find((p) => p.role === 'worker')!;
    worker.child.kill('SIGKILL');
    assert.deepEqual(await worker.exited, { code: null, signal: 'SIGKILL' });
    const killedAt = Date.now();

    // The deadline passes with no worker: the server fires the timer, nobody acts on it.
    await new Promise((r) => setTimeout(r, Math.max(0, deadline + 2000 - Date.now())));
    await eventually(async () => (await timerEvents(handle)).fired >= 1, 10_000, 'the server to fire the timer');
    assert.equal(graph!.messageRequests().length, 0, 'nothing is sent while no worker runs');

    const restartedAt = Date.now();
    await startProcess('worker');
    const [reply] = await graph!.waitForMessages(1, 60_000);
    assert.equal(reply.path, `/v23.0/${PHONE_NUMBER_ID}/messages`);
    assert.equal(reply.body.to, `+${CUSTOMER}`);
    assert.deepEqual(reply.body.text, { body: DELAYED_REPLY });
    assert.ok(reply.at >= restartedAt, 'sent by the new worker');

    // Exactly once: no second send, one outbound row, one timer fired.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(graph!.messageRequests().length, 1, 'the delayed reply was sent exactly once');
    const outbound = await db('messages').where({ conversation_id: conversation.id, direction: 'outbound' }).select('automation', 'status');
    assert.deepEqual(outbound, [{ automation: 'unassigned_reply', status: 'accepted' }]);
    const finalState = await handle.query(conversationStateQuery);
    assert.equal(finalState?.status, 'unassigned');
    assert.equal(finalState?.unassignedReplyOwedSince, null, 'the reply is no longer owed');
    const timers = await timerEvents(handle);
    assert.deepEqual(timers, { started: 1, fired: 1 });
    console.log(
      `      worker SIGKILLed ${deadline - killedAt} ms before the ${DELAY_SECONDS} s deadline; restarted ${restartedAt - deadline} ms after it; ` +
        `reply sent ${reply.at - deadline} ms after the deadline (${reply.at - restartedAt} ms after the restart began)`,
    );
  });
});

/** Timers started and fired in the workflow's history. */
async function timerEvents(handle: ReturnType<Client['workflow']['getHandle']>): Promise<{ started: number; fired: number }> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  return { started: events.filter((e) => e.timerStartedEventAttributes).length, fired: events.filter((e) => e.timerFiredEventAttributes).length };
}
