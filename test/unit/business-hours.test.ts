/**
 * Business hours (SPEC R14): the pure calendar arithmetic the conversation machine uses for
 * the out-of-office message and for clocks that count only business time. Times in the
 * tests are local wall-clock times turned into instants by the module's own rule
 * (`instantOfLocalTime`), whose DST behaviour is itself pinned against UTC below.
 */
import assert from 'node:assert/strict';
import {
  type BusinessHours,
  CLOSED_SINCE_BEYOND_HORIZON,
  type OpeningInterval,
  WEEKDAYS,
  type Weekday,
  addBusinessTime,
  businessHoursIssues,
  businessTimeBetween,
  closedPeriodStart,
  instantOfLocalTime,
  isOpen,
  isValidTimeZone,
  nextOpening,
} from '../../workflows/rules/business-hours';
import { HOUR, MINUTE } from '../../workflows/rules/vocabulary';

const MADRID = 'Europe/Madrid';
const NEW_YORK = 'America/New_York';
const DAY = 24 * HOUR;

function hours(timezone: string, weekly: Partial<Record<Weekday, OpeningInterval[]>>, closedDates: string[] = []): BusinessHours {
  const full = Object.fromEntries(WEEKDAYS.map((day) => [day, weekly[day] ?? []])) as Record<Weekday, OpeningInterval[]>;
  return { timezone, weekly: full, closedDates };
}

/** The same intervals Monday to Friday, weekend closed. */
function weekdays(timezone: string, intervals: OpeningInterval[], closedDates: string[] = []): BusinessHours {
  return hours(timezone, { mon: intervals, tue: intervals, wed: intervals, thu: intervals, fri: intervals }, closedDates);
}

function allWeek(timezone: string, intervals: OpeningInterval[]): BusinessHours {
  return hours(timezone, Object.fromEntries(WEEKDAYS.map((day) => [day, intervals])));
}

/** A local wall-clock time as an instant, plus `plusMs` (to probe a millisecond either side). */
function at(timezone: string, date: string, time: string, plusMs = 0): number {
  return instantOfLocalTime(timezone, date, time) + plusMs;
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + days * DAY).toISOString().slice(0, 10);
}

// 2026-12-04 is a Friday, 2026-12-07 a Monday (Madrid is UTC+1 in December).
const FRI = '2026-12-04';
const SAT = '2026-12-05';
const SUN = '2026-12-06';
const MON = '2026-12-07';
const TUE = '2026-12-08';
const THU = '2026-12-03';

describe('business hours (pure, SPEC R14)', () => {
  describe('open and closed', () => {
    const office = weekdays(MADRID, [['09:00', '18:00']]);

    it('when the opening minute starts, then it is open; a millisecond before, closed', () => {
      assert.equal(isOpen(office, at(MADRID, FRI, '09:00')), true);
      assert.equal(isOpen(office, at(MADRID, FRI, '09:00', -1)), false);
      assert.equal(at(MADRID, FRI, '09:00'), Date.UTC(2026, 11, 4, 8, 0, 0, 0));
    });

    it('when the closing minute starts, then it is closed; a millisecond before, open', () => {
      assert.equal(isOpen(office, at(MADRID, FRI, '18:00')), false);
      assert.equal(isOpen(office, at(MADRID, FRI, '18:00', -1)), true);
    });

    it('when a split shift has a lunch gap, then the gap is closed and each shift open', () => {
      const split = weekdays(MADRID, [
        ['09:00', '13:00'],
        ['14:00', '18:00'],
      ]);
      assert.equal(isOpen(split, at(MADRID, FRI, '13:00', -1)), true);
      assert.equal(isOpen(split, at(MADRID, FRI, '13:00')), false);
      assert.equal(isOpen(split, at(MADRID, FRI, '13:30')), false);
      assert.equal(isOpen(split, at(MADRID, FRI, '14:00')), true);
      assert.equal(closedPeriodStart(split, at(MADRID, FRI, '13:30')), at(MADRID, FRI, '13:00'));
      assert.equal(nextOpening(split, at(MADRID, FRI, '13:30')), at(MADRID, FRI, '14:00'));
      assert.equal(businessTimeBetween(split, at(MADRID, FRI, '00:00'), at(MADRID, SAT, '00:00')), 8 * HOUR);
    });

    it('when intervals are listed out of order or touch, then they read as one continuous opening', () => {
      const touching = weekdays(MADRID, [
        ['13:00', '18:00'],
        ['09:00', '13:00'],
      ]);
      assert.equal(isOpen(touching, at(MADRID, FRI, '13:00')), true);
      assert.equal(closedPeriodStart(touching, at(MADRID, FRI, '19:00')), at(MADRID, FRI, '18:00'));
    });

    it('when a date is a closed date, then that whole local day is closed though its weekday has hours, and only that day', () => {
      const holiday = weekdays(MADRID, [['09:00', '18:00']], [TUE]);
      assert.equal(isOpen(holiday, at(MADRID, TUE, '09:00')), false);
      assert.equal(isOpen(holiday, at(MADRID, TUE, '12:00')), false);
      assert.equal(businessTimeBetween(holiday, at(MADRID, TUE, '00:00'), at(MADRID, addDays(TUE, 1), '00:00')), 0);
      assert.equal(isOpen(holiday, at(MADRID, MON, '17:59')), true);
      assert.equal(isOpen(holiday, at(MADRID, addDays(TUE, 1), '09:00')), true);
    });

    it('when the day before a closed date is open until 24:00, then it closes at the midnight that starts the closed date', () => {
      const lateNight = hours(MADRID, { mon: [['20:00', '24:00']], tue: [['00:00', '02:00']] }, [TUE]);
      assert.equal(isOpen(lateNight, at(MADRID, MON, '23:59')), true);
      assert.equal(isOpen(lateNight, at(MADRID, TUE, '00:00')), false);
      assert.equal(closedPeriodStart(lateNight, at(MADRID, TUE, '01:00')), at(MADRID, TUE, '00:00'));
    });
  });

  describe('closed periods and the next opening', () => {
    const office = weekdays(MADRID, [['09:00', '18:00']]);

    it('when it is the weekend, then the closed period began at Friday closing and runs to Monday opening', () => {
      const friClose = at(MADRID, FRI, '18:00');
      for (const moment of [friClose, at(MADRID, FRI, '23:00'), at(MADRID, SAT, '12:00'), at(MADRID, SUN, '23:59'), at(MADRID, MON, '08:59')]) {
        assert.equal(closedPeriodStart(office, moment), friClose);
        assert.equal(nextOpening(office, moment), at(MADRID, MON, '09:00'));
      }
    });

    it('when it is open, then there is no closed period and the next opening is now', () => {
      const moment = at(MADRID, FRI, '10:15');
      assert.equal(closedPeriodStart(office, moment), null);
      assert.equal(nextOpening(office, moment), moment);
    });

    it('when one night ends and the next begins, then they are different closed periods', () => {
      assert.equal(closedPeriodStart(office, at(MADRID, THU, '20:00')), at(MADRID, THU, '18:00'));
      assert.equal(closedPeriodStart(office, at(MADRID, FRI, '08:00')), at(MADRID, THU, '18:00'));
      assert.equal(closedPeriodStart(office, at(MADRID, FRI, '20:00')), at(MADRID, FRI, '18:00'));
    });

    it('when a closed Monday follows the weekend, then Friday evening to Tuesday morning is one closed period', () => {
      const longWeekend = weekdays(MADRID, [['09:00', '18:00']], [MON]);
      for (const moment of [at(MADRID, SAT, '12:00'), at(MADRID, MON, '12:00'), at(MADRID, TUE, '08:59')]) {
        assert.equal(closedPeriodStart(longWeekend, moment), at(MADRID, FRI, '18:00'));
        assert.equal(nextOpening(longWeekend, moment), at(MADRID, TUE, '09:00'));
      }
    });

    it('when a closed Friday precedes the weekend, then the closed period began on Thursday at closing', () => {
      const longWeekend = weekdays(MADRID, [['09:00', '18:00']], [FRI]);
      assert.equal(closedPeriodStart(longWeekend, at(MADRID, SUN, '12:00')), at(MADRID, THU, '18:00'));
      assert.equal(closedPeriodStart(longWeekend, at(MADRID, FRI, '10:00')), at(MADRID, THU, '18:00'));
    });
  });

  describe('business time (pauseClocks, R7 and R13)', () => {
    it('when a reminder is due 5 business minutes after Friday 17:28 with hours ending 17:30, then it fires Monday 09:03 (SPEC example)', () => {
      const office = weekdays(MADRID, [['09:00', '17:30']]);
      const due = addBusinessTime(office, at(MADRID, FRI, '17:28'), 5 * MINUTE);
      assert.equal(due, at(MADRID, MON, '09:03'));
      assert.equal(due, Date.UTC(2026, 11, 7, 8, 3));
      assert.equal(businessTimeBetween(office, at(MADRID, FRI, '17:28'), due), 5 * MINUTE);
    });

    it('when the duration ends exactly at closing, then it is due at the closing, not at the next opening', () => {
      const office = weekdays(MADRID, [['09:00', '17:30']]);
      assert.equal(addBusinessTime(office, at(MADRID, FRI, '17:28'), 2 * MINUTE), at(MADRID, FRI, '17:30'));
    });

    it('when the clock starts while closed, then it starts counting at the opening', () => {
      const office = weekdays(MADRID, [['09:00', '17:30']]);
      assert.equal(addBusinessTime(office, at(MADRID, SAT, '11:00'), 90 * MINUTE), at(MADRID, MON, '10:30'));
    });

    it('when the duration is zero, then it is due at once, open or closed', () => {
      const office = weekdays(MADRID, [['09:00', '17:30']]);
      assert.equal(addBusinessTime(office, at(MADRID, SAT, '11:00'), 0), at(MADRID, SAT, '11:00'));
    });

    it('when business time is added and measured back, then the two agree (across nights, a weekend and a split shift)', () => {
      const split = weekdays(
        MADRID,
        [
          ['09:00', '13:00'],
          ['14:00', '18:00'],
        ],
        [TUE],
      );
      const from = at(MADRID, THU, '12:17', 345);
      for (let minutes = 1; minutes <= 3 * 8 * 60; minutes += 37) {
        const due = addBusinessTime(split, from, minutes * MINUTE);
        assert.equal(businessTimeBetween(split, from, due), minutes * MINUTE, `${minutes} min`);
        assert.equal(isOpen(split, due - 1), true, `${minutes} min: the last counted millisecond is open`);
      }
    });

    it('when business time is measured backwards or over nothing, then it is zero', () => {
      const office = weekdays(MADRID, [['09:00', '18:00']]);
      assert.equal(businessTimeBetween(office, at(MADRID, FRI, '12:00'), at(MADRID, FRI, '11:00')), 0);
      assert.equal(businessTimeBetween(office, at(MADRID, FRI, '12:00'), at(MADRID, FRI, '12:00')), 0);
    });
  });

  describe('daylight saving time (intervals are local wall-clock times)', () => {
    const cases = [
      { zone: MADRID, springForward: '2026-03-29', fallBack: '2026-10-25' },
      { zone: NEW_YORK, springForward: '2026-03-08', fallBack: '2026-11-01' },
    ];

    it('when a local time does not exist (spring forward), then it maps to the instant the clock jumps at', () => {
      // Madrid: 02:00 CET → 03:00 CEST at 01:00 UTC. New York: 02:00 EST → 03:00 EDT at 07:00 UTC.
      assert.equal(instantOfLocalTime(MADRID, '2026-03-29', '02:30'), Date.UTC(2026, 2, 29, 1, 0));
      assert.equal(instantOfLocalTime(MADRID, '2026-03-29', '02:00'), Date.UTC(2026, 2, 29, 1, 0));
      assert.equal(instantOfLocalTime(MADRID, '2026-03-29', '03:00'), Date.UTC(2026, 2, 29, 1, 0));
      assert.equal(instantOfLocalTime(NEW_YORK, '2026-03-08', '02:30'), Date.UTC(2026, 2, 8, 7, 0));
    });

    it('when a local time exists twice (fall back), then it maps to its first occurrence', () => {
      // Madrid: 03:00 CEST → 02:00 CET at 01:00 UTC. New York: 02:00 EDT → 01:00 EST at 06:00 UTC.
      assert.equal(instantOfLocalTime(MADRID, '2026-10-25', '02:30'), Date.UTC(2026, 9, 25, 0, 30));
      assert.equal(instantOfLocalTime(MADRID, '2026-10-25', '03:00'), Date.UTC(2026, 9, 25, 2, 0));
      assert.equal(instantOfLocalTime(NEW_YORK, '2026-11-01', '01:30'), Date.UTC(2026, 10, 1, 5, 30));
      assert.equal(instantOfLocalTime(NEW_YORK, '2026-11-01', '02:00'), Date.UTC(2026, 10, 1, 7, 0));
    });

    for (const { zone, springForward, fallBack } of cases) {
      it(`when a 09:00–17:00 day falls on a transition day in ${zone}, then it is 8 h of business time both in spring and in autumn`, () => {
        const sundays = hours(zone, { sun: [['09:00', '17:00']] });
        for (const date of [springForward, fallBack]) {
          assert.equal(businessTimeBetween(sundays, at(zone, date, '00:00'), at(zone, addDays(date, 1), '00:00')), 8 * HOUR, date);
          assert.equal(addBusinessTime(sundays, at(zone, date, '00:00'), 8 * HOUR), at(zone, date, '17:00'), date);
          assert.equal(isOpen(sundays, at(zone, date, '09:00')), true, date);
          assert.equal(isOpen(sundays, at(zone, date, '17:00')), false, date);
        }
      });

      it(`when an interval 01:00–04:00 spans the transition in ${zone}, then it counts the real elapsed time (2 h in spring, 4 h in autumn)`, () => {
        const night = hours(zone, { sun: [['01:00', '04:00']] });
        const dayOf = (date: string) => businessTimeBetween(night, at(zone, date, '00:00'), at(zone, addDays(date, 1), '00:00'));
        assert.equal(dayOf(springForward), 2 * HOUR);
        assert.equal(dayOf(fallBack), 4 * HOUR);
        assert.equal(dayOf(addDays(springForward, 7)), 3 * HOUR);
      });

      it(`when a 9-to-5 week contains both transitions in ${zone}, then every weekday is still open 09:00–17:00 local`, () => {
        const office = weekdays(zone, [['09:00', '17:00']]);
        for (const sunday of [springForward, fallBack]) {
          const monday = addDays(sunday, 1);
          assert.equal(closedPeriodStart(office, at(zone, monday, '08:00')), at(zone, addDays(sunday, -2), '17:00'));
          assert.equal(nextOpening(office, at(zone, sunday, '12:00')), at(zone, monday, '09:00'));
          // Friday 16:00 + 2 business hours crosses the weekend with the transition: Monday 10:00 local.
          assert.equal(addBusinessTime(office, at(zone, addDays(sunday, -2), '16:00'), 2 * HOUR), at(zone, monday, '10:00'));
        }
      });
    }

    it('when an interval lies wholly inside the skipped hour, then it never opens that day', () => {
      const ghost = hours(MADRID, { sun: [['02:00', '02:45']] });
      assert.equal(businessTimeBetween(ghost, at(MADRID, '2026-03-29', '00:00'), at(MADRID, '2026-03-30', '00:00')), 0);
      assert.equal(nextOpening(ghost, at(MADRID, '2026-03-28', '12:00')), at(MADRID, '2026-04-05', '02:00'));
    });

    it('when an interval ends inside the repeated hour, then it ends at the first occurrence and the repeat is closed', () => {
      const early = hours(MADRID, { sun: [['00:00', '02:30']] });
      const firstHalfPast2 = Date.UTC(2026, 9, 25, 0, 30); // 02:30 CEST
      const secondHalfPast2 = Date.UTC(2026, 9, 25, 1, 30); // 02:30 CET, one hour later
      assert.equal(isOpen(early, firstHalfPast2 - 1), true);
      assert.equal(isOpen(early, firstHalfPast2), false);
      assert.equal(isOpen(early, secondHalfPast2 - MINUTE), false);
      assert.equal(closedPeriodStart(early, secondHalfPast2), firstHalfPast2);
    });
  });

  describe('time zones far from UTC', () => {
    it('when Kiritimati (UTC+14) opens Monday 09:00, then it is open on Sunday by the UTC date', () => {
      const kiritimati = hours('Pacific/Kiritimati', { mon: [['09:00', '10:00']] });
      assert.equal(at('Pacific/Kiritimati', MON, '09:00'), Date.UTC(2026, 11, 6, 19, 0)); // Sunday in UTC
      assert.equal(isOpen(kiritimati, Date.UTC(2026, 11, 6, 19, 30)), true);
      assert.equal(isOpen(kiritimati, Date.UTC(2026, 11, 7, 9, 30)), false); // Monday 09:30 UTC is Monday 23:30 local
      assert.equal(nextOpening(kiritimati, Date.UTC(2026, 11, 7, 0, 0)), Date.UTC(2026, 11, 13, 19, 0));
    });

    it('when a closed date is given in Kiritimati, then it closes the local date, which starts the previous UTC day', () => {
      const kiritimati = hours('Pacific/Kiritimati', { mon: [['09:00', '10:00']] }, [MON]);
      assert.equal(isOpen(kiritimati, Date.UTC(2026, 11, 6, 19, 30)), false);
      assert.equal(nextOpening(kiritimati, Date.UTC(2026, 11, 6, 0, 0)), Date.UTC(2026, 11, 13, 19, 0));
    });

    it('when Pago Pago (UTC−11) is open Saturday evening, then it is open on Sunday by the UTC date', () => {
      const pagoPago = hours('Pacific/Pago_Pago', { sat: [['20:00', '24:00']] });
      assert.equal(isOpen(pagoPago, Date.UTC(2026, 11, 6, 9, 0)), true); // Saturday 22:00 local
      assert.equal(isOpen(pagoPago, Date.UTC(2026, 11, 6, 11, 0)), false); // Sunday 00:00 local
      assert.equal(closedPeriodStart(pagoPago, Date.UTC(2026, 11, 6, 12, 0)), Date.UTC(2026, 11, 6, 11, 0));
      assert.equal(addBusinessTime(pagoPago, Date.UTC(2026, 11, 6, 10, 0), 2 * HOUR), Date.UTC(2026, 11, 13, 8, 0));
    });
  });

  describe('degenerate schedules', () => {
    it('when no weekday has hours, then it is never open: no next opening, clocks never fire, no business time', () => {
      const never = hours(MADRID, {});
      const moment = at(MADRID, FRI, '12:00');
      assert.equal(isOpen(never, moment), false);
      assert.equal(nextOpening(never, moment), null);
      assert.equal(addBusinessTime(never, moment, MINUTE), Infinity);
      assert.equal(businessTimeBetween(never, moment, moment + 365 * DAY), 0);
      assert.equal(closedPeriodStart(never, moment), CLOSED_SINCE_BEYOND_HORIZON);
      assert.equal(closedPeriodStart(never, moment + 30 * DAY), CLOSED_SINCE_BEYOND_HORIZON, 'the same period later on');
    });

    it('when it is open 24/7 (00:00–24:00 every day), then business time is plain elapsed time, DST nights included', () => {
      const always = allWeek(NEW_YORK, [['00:00', '24:00']]);
      const from = at(NEW_YORK, '2026-10-30', '13:07', 123);
      for (const duration of [1, MINUTE, 3 * HOUR, DAY, 5 * DAY + 17 * MINUTE, 200 * DAY]) {
        assert.equal(addBusinessTime(always, from, duration), from + duration);
        assert.equal(businessTimeBetween(always, from, from + duration), duration);
      }
      assert.equal(isOpen(always, at(NEW_YORK, '2026-11-01', '00:00')), true);
      assert.equal(closedPeriodStart(always, Date.UTC(2026, 10, 1, 6, 30)), null); // inside the repeated hour
    });

    it('when the next opening lies beyond the two-year search bound, then the schedule counts as never opening', () => {
      // Only Mondays open, and every Monday of the next three years a closed date.
      const mondays = Array.from({ length: 3 * 53 }, (_, week) => addDays(MON, 7 * week));
      const closedForYears = hours(MADRID, { mon: [['09:00', '10:00']] }, mondays);
      const moment = at(MADRID, SUN, '12:00');
      assert.equal(nextOpening(closedForYears, moment), null);
      assert.equal(addBusinessTime(closedForYears, moment, MINUTE), Infinity);
      // Within the bound the same walk still succeeds.
      const closedForAYear = hours(MADRID, { mon: [['09:00', '10:00']] }, mondays.slice(0, 52));
      assert.equal(nextOpening(closedForAYear, moment), at(MADRID, addDays(MON, 7 * 52), '09:00'));
    });

    it('when 24 h of business time is added to a schedule open 1 h a week, then it walks by days and finishes quickly', () => {
      const sparse = hours(MADRID, { wed: [['10:00', '11:00']] });
      const from = at(MADRID, '2026-01-07', '11:00'); // a Wednesday, just closed
      const started = performance.now();
      const due = addBusinessTime(sparse, from, 24 * HOUR);
      const elapsedMs = performance.now() - started;
      assert.equal(due, at(MADRID, addDays('2026-01-07', 7 * 24), '11:00'));
      assert.equal(businessTimeBetween(sparse, from, due), 24 * HOUR);
      assert.ok(elapsedMs < 250, `took ${elapsedMs.toFixed(1)} ms`);
    });
  });

  describe('validation (field issues for the API)', () => {
    const valid = {
      timezone: MADRID,
      weekly: {
        mon: [
          ['09:00', '13:00'],
          ['14:00', '18:00'],
        ],
        tue: [['09:00', '24:00']],
        wed: [],
        thu: [],
        fri: [],
        sat: [],
        sun: [],
      },
      closedDates: ['2026-12-25'],
    };
    const withWeekly = (weekly: Record<string, unknown>) => ({ ...valid, weekly: { ...valid.weekly, ...weekly } });
    const fields = (value: unknown) => businessHoursIssues(value).map((issue) => issue.field);

    it('when the calendar is valid (the SPEC example, 24:00 as an end), then there are no issues', () => {
      assert.deepEqual(businessHoursIssues(valid), []);
    });

    it('when the time zone is not an IANA zone, then the issue is at timezone', () => {
      for (const timezone of ['Mars/Olympus_Mons', '+01:00', '', 'CET ', 42]) {
        assert.deepEqual(fields({ ...valid, timezone }), ['timezone'], String(timezone));
      }
      for (const timezone of ['UTC', 'America/Argentina/Buenos_Aires', 'Pacific/Kiritimati', 'Etc/GMT+5']) {
        assert.equal(isValidTimeZone(timezone), true, timezone);
      }
    });

    it('when a time is not HH:MM, then the issue is at its interval', () => {
      for (const bad of [['9:00', '13:00'], ['09:00', '25:00'], ['12:60', '13:00'], ['24:00', '24:00'], ['09:00'], 'nine to five']) {
        assert.deepEqual(fields(withWeekly({ wed: [['07:00', '08:00'], bad] })), ['weekly.wed[1]'], JSON.stringify(bad));
      }
    });

    it('when a start is not before its end, then the issue is at its interval', () => {
      const issues = businessHoursIssues(withWeekly({ fri: [['18:00', '09:00']], sat: [['10:00', '10:00']] }));
      assert.deepEqual(
        issues.map((issue) => issue.field),
        ['weekly.fri[0]', 'weekly.sat[0]'],
      );
      assert.match(issues[0]!.message, /before/);
    });

    it('when intervals of a day overlap, then the later one is reported naming the other; touching intervals are fine', () => {
      const issues = businessHoursIssues(
        withWeekly({
          thu: [
            ['14:00', '18:00'],
            ['09:00', '14:30'],
          ],
        }),
      );
      assert.deepEqual(issues, [{ field: 'weekly.thu[1]', message: 'overlaps weekly.thu[0] (14:00–18:00)' }]);
      assert.deepEqual(
        businessHoursIssues(
          withWeekly({
            thu: [
              ['14:00', '18:00'],
              ['09:00', '14:00'],
            ],
          }),
        ),
        [],
      );
    });

    it('when a closed date is malformed, does not exist or repeats, then the issue is at that date', () => {
      const issues = businessHoursIssues({ ...valid, closedDates: ['2026-12-25', '2026-02-30', '2026-1-5', '2026-12-25', 20261225] });
      assert.deepEqual(
        issues.map((issue) => issue.field),
        ['closedDates[1]', 'closedDates[2]', 'closedDates[3]', 'closedDates[4]'],
      );
      assert.match(issues[2]!.message, /repeats closedDates\[0\]/);
      assert.deepEqual(fields({ ...valid, closedDates: ['2028-02-29'] }), []);
    });

    it('when a weekday is missing or unknown, then the issue is at that weekday', () => {
      const { sun: _sun, ...sixDays } = valid.weekly;
      assert.deepEqual(fields({ ...valid, weekly: sixDays }), ['weekly.sun']);
      assert.deepEqual(fields(withWeekly({ monday: [] })), ['weekly.monday']);
      assert.deepEqual(fields({ ...valid, weekly: [] }), ['weekly']);
      assert.deepEqual(fields(null), ['']);
    });

    it('when stored hours are invalid anyway, then the arithmetic skips the bad intervals instead of failing', () => {
      const messy = hours(MADRID, {
        fri: [
          ['18:00', '09:00'],
          ['9:00', '10:00'],
          ['10:00', '12:00'],
          ['11:00', '13:00'],
        ],
      });
      assert.equal(isOpen(messy, at(MADRID, FRI, '09:30')), false);
      assert.equal(businessTimeBetween(messy, at(MADRID, FRI, '00:00'), at(MADRID, SAT, '00:00')), 3 * HOUR);
    });
  });
});
