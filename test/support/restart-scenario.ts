/**
 * Restarts of every process while conversations' timers are pending, shared by the
 * end-to-end test (test/e2e/restart-soak.test.ts) and the soak (bench/restart-soak.ts).
 *
 * Each cycle opens two conversations and then stops every process and starts them again
 * on the same data:
 * - one opened a moment earlier, whose unassigned reply (R4) is armed and falls due after
 *   the restart;
 * - one whose webhook was acknowledged 0–250 ms before the stop (varied per cycle), so
 *   its opening workflow tasks and activities are in flight as the worker stops, and
 *   whose reply falls due while the service is down.
 * The cycle ends when both replies have arrived (or a limit passes). Every conversation
 * must get its reply exactly once, no later than a few seconds after the moment it could
 * first be sent: its deadline, or the end of the restart during which it fell.
 */
import type { ServiceUnderTest } from './running-service';
import { textWebhook } from './running-service';

/** Armed before the stop, due after the restart. */
const ARMED_NUMBER = { phoneNumberId: '222000991', delaySeconds: 4 };
/** Opening as the stop begins, due while the service is down. */
const IN_FLIGHT_NUMBER = { phoneNumberId: '222000992', delaySeconds: 2 };

export interface RestartOutcome {
  customer: string;
  kind: 'armed' | 'in_flight';
  dueAt: number;
  /** The deadline, or the end of the restart during which it fell. */
  sendableAt: number;
  replies: number[];
}

export interface RestartReport {
  cycles: number;
  restartMs: number[];
  outcomes: RestartOutcome[];
  elapsedMs: number;
}

export async function configureRestartNumbers(s: ServiceUnderTest): Promise<void> {
  for (const { phoneNumberId, delaySeconds } of [ARMED_NUMBER, IN_FLIGHT_NUMBER]) {
    await s.db('automation_settings').insert({
      phone_number_id: phoneNumberId,
      settings: JSON.stringify({ unassignedReply: { enabled: true, delaySeconds, message: { type: 'text', text: { body: 'Still there?' } } } }),
    });
  }
}

export async function runRestartCycles(
  s: ServiceUnderTest,
  options: { cycles: number; replyWithinMs: number; log?: (line: string) => void },
): Promise<RestartReport> {
  const started = Date.now();
  const outcomes: RestartOutcome[] = [];
  const restartMs: number[] = [];
  let serial = 0;
  const repliesTo = (customer: string) =>
    s.graph
      .messageRequests()
      .filter((r) => r.body.to === `+${customer}`)
      .map((r) => r.at);
  const open = async (kind: RestartOutcome['kind']): Promise<RestartOutcome> => {
    const number = kind === 'armed' ? ARMED_NUMBER : IN_FLIGHT_NUMBER;
    const customer = `5511970${String(++serial).padStart(6, '0')}`;
    const response = await s.postWebhook(
      textWebhook({ wamid: `wamid.RESTART-${started}-${serial}`, from: customer, body: 'anyone?', phoneNumberId: number.phoneNumberId }),
    );
    if (response.status !== 200) throw new Error(`webhook for ${customer} answered ${response.status}`);
    const dueAt = Date.now() + number.delaySeconds * 1000;
    return { customer, kind, dueAt, sendableAt: dueAt, replies: [] };
  };

  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const armed = await open('armed');
    await new Promise((r) => setTimeout(r, 500));
    const inFlight = await open('in_flight');
    await new Promise((r) => setTimeout(r, (cycle * 53) % 250));
    const stopAt = Date.now();
    await s.restart();
    const upAt = Date.now();
    restartMs.push(upAt - stopAt);
    for (const o of [armed, inFlight]) if (o.dueAt >= stopAt && o.dueAt <= upAt) o.sendableAt = upAt;

    const limit = Math.max(armed.sendableAt, inFlight.sendableAt) + options.replyWithinMs;
    while (Date.now() < limit && (repliesTo(armed.customer).length === 0 || repliesTo(inFlight.customer).length === 0)) {
      await new Promise((r) => setTimeout(r, 25));
    }
    outcomes.push(armed, inFlight);
    options.log?.(`restart ${cycle + 1}/${options.cycles}: stopped and started in ${upAt - stopAt} ms`);
  }
  // Long enough for a duplicate to show itself after the last first reply.
  await new Promise((r) => setTimeout(r, 2000));
  for (const o of outcomes) o.replies = repliesTo(o.customer);
  return { cycles: options.cycles, restartMs, outcomes, elapsedMs: Date.now() - started };
}

/** How long after it could first be sent each reply arrived (ms); missing replies are left out. */
export function lateness(outcomes: RestartOutcome[]): number[] {
  return outcomes.filter((o) => o.replies.length > 0).map((o) => o.replies[0] - o.sendableAt);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
