/**
 * R14 business hours in the rules (time-skipping server). The calendar itself (opening and
 * closing minutes, split shifts, daylight saving) is tested in test/unit/business-hours.test.ts;
 * here: what the conversation does with it. Closed dates in UTC, open round the clock
 * otherwise, so each step lands well inside its period whenever the test runs.
 */
import assert from 'node:assert/strict';
import { MINUTE, SECOND, freshContact, text, type SettingsPatch, useRulesHarness } from './rules-helpers';

const DAY = 24 * 60 * MINUTE;
const ALL_DAY: [string, string][] = [['00:00', '24:00']];
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const midnightOf = (ms: number) => Date.parse(`${dateOf(ms)}T00:00:00Z`);

describe('R14 business hours (time-skipping server)', () => {
  const { harness, kit } = useRulesHarness();

  /** Closed today and tomorrow (UTC) and on day 3; open on day 2 and from day 4. */
  async function hoursFromToday(patch: Partial<NonNullable<SettingsPatch['businessHours']>> = {}) {
    const today = midnightOf(await harness.now());
    return {
      today,
      reopens: today + 2 * DAY,
      closesAgain: today + 3 * DAY,
      businessHours: {
        enabled: true,
        timezone: 'UTC',
        pauseClocks: false,
        weekly: { mon: ALL_DAY, tue: ALL_DAY, wed: ALL_DAY, thu: ALL_DAY, fri: ALL_DAY, sat: ALL_DAY, sun: ALL_DAY },
        closedDates: [dateOf(today), dateOf(today + DAY), dateOf(today + 3 * DAY)],
        outOfOfficeMessage: text('We are closed; we answer when we open.'),
        ...patch,
      },
    };
  }

  it('when a customer waits while closed, then the out-of-office message replaces the unassigned reply, once per closed period', async () => {
    const { businessHours, reopens, closesAgain } = await hoursFromToday();
    const pn = await kit.numberWith({ businessHours, unassignedReply: { enabled: true, delaySeconds: 0, message: text('Away') } });
    const contact = freshContact('r14-ooo');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'hello?');
      const row = await kit.conversationIn(contact, pn, 'unassigned');
      const [ooo] = await kit.waitForAutomation(row, 'out_of_office');
      assert.equal(ooo.status, 'accepted');
      assert.deepEqual(await kit.outbound(row, 'unassigned_reply'), [], 'instead of R4');
      await kit.customerSays(contact, pn, 'anyone?');
      await kit.settle(row);
      assert.equal((await kit.outbound(row, 'out_of_office')).length, 1, 'once in this closed period (it spans two days)');

      await kit.advanceTo(row, reopens + MINUTE);
      await kit.customerSays(contact, pn, 'you are open now');
      await kit.settle(row);
      assert.equal((await kit.outbound(row, 'out_of_office')).length, 1, 'not while open');

      await kit.advanceTo(row, closesAgain + MINUTE);
      await kit.customerSays(contact, pn, 'closed again?');
      assert.equal((await kit.waitForAutomation(row, 'out_of_office', 2)).length, 2, 'a new closed period, a new message');
    });
  });

  it('when a customer is queued while closed, then routing is unchanged and the out-of-office message replaces the queue message', async () => {
    const { businessHours } = await hoursFromToday();
    const pn = await kit.numberWith({ businessHours, queueReply: { enabled: true, message: text('In the queue') } });
    await kit.addAgent(`agent-${pn}`, pn, 1);
    const [a, b] = [freshContact('r14-q-a'), freshContact('r14-q-b')];
    await kit.run(async () => {
      await kit.customerSays(a, pn, 'first');
      const served = await kit.conversationIn(a, pn, 'assigned');
      await kit.customerSays(b, pn, 'second');
      const queued = await kit.conversationIn(b, pn, 'queued');
      assert.equal((await kit.waitForAutomation(queued, 'out_of_office'))[0].status, 'accepted');
      assert.deepEqual(await kit.outbound(queued, 'queue_reply'), []);
      await kit.settle(served);
      assert.deepEqual(await kit.outbound(served, 'out_of_office'), [], 'an assigned conversation is being served');
    });
  });

  it('when pauseClocks is on, then the reminder counts business time only: W after reopening, not before', async () => {
    const { businessHours, reopens } = await hoursFromToday({ pauseClocks: true });
    const pn = await kit.numberWith({ businessHours, reminder: { enabled: true, waitMinutes: 5, message: text('Still with you') } });
    await kit.addAgent(`agent-${pn}`, pn, 1);
    const contact = freshContact('r14-pause');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'help');
      const row = await kit.conversationIn(contact, pn, 'assigned');
      await kit.advanceTo(row, (await harness.now()) + 10 * MINUTE);
      assert.deepEqual(await kit.outbound(row, 'reminder'), [], 'closed: the clock does not run');
      // The customer writes again an hour before opening (the 24-hour window stays open; R7
      // still counts from the stretch's first message).
      await kit.advanceTo(row, reopens - 60 * MINUTE);
      await kit.customerSays(contact, pn, 'still there?');
      await kit.advanceTo(row, reopens + 5 * MINUTE - SECOND);
      assert.deepEqual(await kit.outbound(row, 'reminder'), [], 'one second short of W of business time');
      await kit.advanceTo(row, reopens + 5 * MINUTE);
      assert.equal((await kit.waitForAutomation(row, 'reminder'))[0].status, 'accepted');
    });
  });

  it('when pauseClocks is off, then the reminder fires W after the message even while closed', async () => {
    const { businessHours } = await hoursFromToday();
    const pn = await kit.numberWith({ businessHours, reminder: { enabled: true, waitMinutes: 5, message: text('Still with you') } });
    await kit.addAgent(`agent-${pn}`, pn, 1);
    const contact = freshContact('r14-nopause');
    await kit.run(async () => {
      await kit.customerSays(contact, pn, 'help');
      const row = await kit.conversationIn(contact, pn, 'assigned');
      const state = (await kit.state(row))!;
      await kit.advanceTo(row, Math.max(state.unansweredSince!, state.assignedAt!) + 5 * MINUTE);
      assert.equal((await kit.waitForAutomation(row, 'reminder'))[0].status, 'accepted');
    });
  });
});
