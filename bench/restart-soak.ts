/**
 * Restart soak: every process (dev server, worker, API, database pool) stopped and started
 * again on the same data, CYCLES times, each time with one conversation's timer armed and
 * one conversation still opening as the stop begins (test/support/restart-scenario.ts).
 * Prints figures beside their targets; asserts nothing.
 *   npm run bench -- restart-soak          (CYCLES=50)
 */
import { installQuietRuntime } from '../test/support/environment';
import { configureRestartNumbers, lateness, percentile, runRestartCycles } from '../test/support/restart-scenario';
import { startServiceUnderTest } from '../test/support/running-service';

const CYCLES = Number(process.env.CYCLES ?? 50);

async function main(): Promise<void> {
  installQuietRuntime();
  const s = await startServiceUnderTest();
  try {
    await configureRestartNumbers(s);
    const report = await runRestartCycles(s, { cycles: CYCLES, replyWithinMs: 60_000, log: (line) => process.stdout.write(`${line}\n`) });
    const row = (what: string, figure: string, target: string) => `| ${what.padEnd(44)} | ${figure.padEnd(22)} | ${target.padEnd(20)} |`;
    const ms = (values: number[]) => `${percentile(values, 50)} / ${percentile(values, 99)} / ${Math.max(...values)}`;
    const byKind = (kind: string) => lateness(report.outcomes.filter((o) => o.kind === kind));
    const lines = [
      '',
      row('what', 'measured', 'target'),
      row('---', '---', '---'),
      row('restarts of every process', String(report.cycles), ''),
      row('conversations', String(report.outcomes.length), ''),
      row('replies missing', String(report.outcomes.filter((o) => o.replies.length === 0).length), '0'),
      row('replies sent twice', String(report.outcomes.filter((o) => o.replies.length > 1).length), '0'),
      row('lateness, timer armed before the stop (ms)', ms(byKind('armed')), 'p50/p99/max ≤ 1,000'),
      row('lateness, opening as the stop began (ms)', ms(byKind('in_flight')), 'max ≤ 10,000'),
      row('stop + start of every process (ms)', ms(report.restartMs), ''),
      row('whole soak (s)', (report.elapsedMs / 1000).toFixed(0), ''),
      '',
      'Lateness: from the deadline (or the end of the restart it fell in) to the request at the fake Graph API; p50 / p99 / max.',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await s.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
