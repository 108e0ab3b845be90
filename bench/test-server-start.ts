/**
 * How long Temporal's time-skipping test server takes to answer, as the SDK starts it
 * (it allows 5 s), idle and with both cores busy. Prints figures; asserts nothing.
 *   npm run bench -- test-server-start
 */
import { fork } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTestServer } from '../src/provisioning/test-server';

const RUNS = Number(process.env.RUNS ?? 5);

async function measure(label: string): Promise<void> {
  const executable = await ensureTestServer();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
    times.push(performance.now() - started);
    await env.teardown();
  }
  times.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(24)} runs=${RUNS} min=${times[0].toFixed(0)} ms median=${times[Math.floor(RUNS / 2)].toFixed(0)} ms max=${times[RUNS - 1].toFixed(0)} ms (limit 5000 ms)`,
  );
}

async function main(): Promise<void> {
  await measure('idle');
  // Two busy processes occupy both cores, as a parallel build or test run would.
  const burners = [0, 1].map(() => fork(__filename, ['--burn'], { stdio: 'ignore' }));
  try {
    await measure('both cores busy');
  } finally {
    burners.forEach((b) => b.kill('SIGKILL'));
  }
}

if (process.argv.includes('--burn')) {
  for (;;) Math.sqrt(Math.random());
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
