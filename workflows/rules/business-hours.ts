/**
 * Business hours (SPEC R14) as pure calendar arithmetic: is a number open at an instant,
 * when did the closed period around it begin, when does it next open, and how do clocks
 * that count only business time (`pauseClocks`, R7 and R13) advance.
 *
 * Every instant is epoch milliseconds; nothing here reads the clock, so the conversation
 * machine can call it inside Temporal's workflow sandbox and replay gives the same answers.
 * Time zones come from the built-in `Intl.DateTimeFormat` (ICU's tz data): for a given
 * instant and zone it is deterministic, and it needs no dependency.
 *
 * The model. Each local calendar day of the zone contributes the opening intervals of its
 * weekday (none when the date is a closed date). An interval is a pair of local wall-clock
 * times, mapped to instants with the zone's rules on that date, and it is half-open:
 * open from its start (inclusive) to its end (exclusive). So [09:00, 18:00] is open at
 * 09:00:00.000 and at 17:59:59.999, closed at 18:00:00.000. Business time between two
 * instants is the real elapsed time inside those intervals.
 *
 * Decisions (the arithmetic is defined for every local time, so the API need not refuse any):
 * - "24:00" is allowed as an end (never as a start): the midnight that ends the day, so a
 *   day can be open until midnight and 24/7 is every day [00:00, 24:00].
 * - A wall-clock time that does not exist (the hour skipped when clocks spring forward)
 *   maps to the instant the clock jumps at: 02:30 on 2026-03-29 in Europe/Madrid is 03:00
 *   CEST. An interval [01:00, 04:00] that day is 2 h; one inside the gap is empty.
 * - A wall-clock time that exists twice (the hour repeated when clocks fall back) maps to
 *   its first occurrence: 02:30 on 2026-10-25 in Europe/Madrid is 02:30 CEST. An interval
 *   [01:00, 04:00] that day is 4 h; one that ends at 02:30 ends before the repeated half hour.
 *   Both rules keep the mapping monotonic, so intervals never run backwards or overlap.
 * - Searches are bounded (SEARCH_HORIZON_DAYS, about two years): a schedule with no opening
 *   within that many local days of the starting point is taken to never open.
 *
 * The functions accept any `BusinessHours` without throwing on a bad interval (it is
 * skipped) so the workflow never fails on stored settings; the API refuses bad settings
 * with `businessHoursIssues`. An unknown time zone does throw (RangeError), as Intl does.
 */
import { HOUR, MINUTE, SECOND } from './vocabulary';

// ---- Shape ---------------------------------------------------------------------------------

/** The settings' weekday keys (SPEC §6), Monday first. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A local wall-clock interval "HH:MM" to "HH:MM" (24 h; the end may be "24:00"). */
export type OpeningInterval = [start: string, end: string];

/** The calendar part of `businessHours` (SPEC §6); `enabled`, `pauseClocks` and the message are the machine's. */
export interface BusinessHours {
  /** IANA time zone, e.g. "Europe/Madrid"; every time and date below is local to it. */
  timezone: string;
  /** Opening intervals per weekday, several a day allowed (a split shift), none = closed that weekday. */
  weekly: Record<Weekday, OpeningInterval[]>;
  /** Local dates "YYYY-MM-DD" closed all day whatever their weekday (holidays). */
  closedDates: string[];
}

/** A problem found by `businessHoursIssues`, `field` relative to the block (prefix it with `businessHours.`). */
export interface BusinessHoursIssue {
  field: string;
  message: string;
}

/**
 * How many local days a search walks without finding an opening before it concludes the
 * schedule never opens (about two years: more than any run of holidays, and it keeps an
 * all-closed schedule's answer cheap). `nextOpening` then returns null, `addBusinessTime`
 * Infinity and `closedPeriodStart` CLOSED_SINCE_BEYOND_HORIZON.
 */
export const SEARCH_HORIZON_DAYS = 732;

/**
 * `addBusinessTime` walks at most this many local days in all (about 100 years) and returns
 * Infinity beyond: the walk is one step per day, so a finite but absurd duration must not
 * spin; no clock of the rules comes anywhere near it.
 */
export const MAX_SCAN_DAYS = 36_600;

/**
 * What `closedPeriodStart` returns when no opening exists within SEARCH_HORIZON_DAYS before
 * the instant (e.g. an empty schedule): the period's start is out of sight. It is a constant
 * so "at most once per closed period" still holds (the remembered start compares equal), and
 * finite (the earliest instant a Date can hold) so it survives JSON and continue-as-new.
 */
export const CLOSED_SINCE_BEYOND_HORIZON = -8_640_000_000_000_000;

const DAY = 24 * HOUR;
const MINUTES_PER_DAY = 24 * 60;

// ---- Queries -------------------------------------------------------------------------------

/** R14: whether a customer message at `at` is inside business hours (else the out-of-office message applies). */
export function isOpen(hours: BusinessHours, at: number): boolean {
  const schedule = compile(hours);
  if (!schedule.everOpens) return false;
  const today = localDay(schedule, at);
  // Neighbouring days too: around a DST change at midnight an instant's local date and the
  // instants of that date's intervals need not line up exactly.
  for (let day = today - 1; day <= today + 1; day++) {
    for (const [start, end] of openIntervalsOfDay(schedule, day)) if (start <= at && at < end) return true;
  }
  return false;
}

/**
 * R14 "at most once per closed period per conversation": the instant the closed period
 * containing `at` began (the end of the last opening before it), or null when open at `at`.
 * The machine remembers the start of the period it last sent the out-of-office message in
 * and sends again only when this changes. Weekends, closed dates and the nights around them
 * are one period when no opening lies between them. CLOSED_SINCE_BEYOND_HORIZON when no
 * opening exists within SEARCH_HORIZON_DAYS before `at`.
 */
export function closedPeriodStart(hours: BusinessHours, at: number): number | null {
  const schedule = compile(hours);
  if (!schedule.everOpens) return CLOSED_SINCE_BEYOND_HORIZON;
  const today = localDay(schedule, at);
  for (let day = today + 1; day >= today - SEARCH_HORIZON_DAYS; day--) {
    const intervals = openIntervalsOfDay(schedule, day);
    let lastEnd: number | null = null;
    for (const [start, end] of intervals) {
      if (start <= at && at < end) return null;
      if (end <= at) lastEnd = end; // intervals are in order: the last one wins
    }
    // Earlier days' intervals end no later than this day's first start, so this is the latest end.
    if (lastEnd !== null) return lastEnd;
  }
  return CLOSED_SINCE_BEYOND_HORIZON;
}

/**
 * The earliest instant at or after `at` that is open: `at` itself when open, else the next
 * opening (e.g. to tell an agent or the timeline when the clocks resume). Null when there is
 * none within SEARCH_HORIZON_DAYS (an empty schedule never opens).
 */
export function nextOpening(hours: BusinessHours, at: number): number | null {
  const schedule = compile(hours);
  if (!schedule.everOpens) return null;
  const today = localDay(schedule, at);
  for (let day = today - 1; day <= today + SEARCH_HORIZON_DAYS; day++) {
    for (const [start, end] of openIntervalsOfDay(schedule, day)) if (end > at) return Math.max(start, at);
  }
  return null;
}

/**
 * `pauseClocks` (R7, R13): the earliest instant by which `durationMs` of business time has
 * elapsed after `from` — a reminder due 5 minutes after 17:28 on a Friday with hours ending
 * 17:30 is due at 09:03 on Monday. A duration that ends exactly at a closing is due at the
 * closing (not at the next opening). `durationMs` ≤ 0 gives `from`. Infinity when the
 * schedule never opens again (no opening within SEARCH_HORIZON_DAYS of a closed stretch) or
 * the walk exceeds MAX_SCAN_DAYS; the caller then arms no timer. It walks opening intervals
 * day by day, never minute by minute, so a long wait on a sparse schedule stays cheap.
 */
export function addBusinessTime(hours: BusinessHours, from: number, durationMs: number): number {
  if (!(durationMs > 0)) return from;
  if (durationMs === Infinity) return Infinity;
  const schedule = compile(hours);
  if (!schedule.everOpens) return Infinity;
  const firstDay = localDay(schedule, from) - 1;
  let remaining = durationMs;
  let closedDays = 0;
  for (let day = firstDay; day <= firstDay + MAX_SCAN_DAYS; day++) {
    let opened = false;
    for (const [start, end] of openIntervalsOfDay(schedule, day)) {
      if (end <= from) continue;
      opened = true;
      const counted = Math.max(start, from);
      if (remaining <= end - counted) return counted + remaining;
      remaining -= end - counted;
    }
    closedDays = opened ? 0 : closedDays + 1;
    if (closedDays > SEARCH_HORIZON_DAYS) return Infinity;
  }
  return Infinity;
}

/**
 * Milliseconds of business time in [from, to) (0 when `to` ≤ `from`): how much of a paused
 * clock has run, e.g. when settings change (R12) and a timer is re-armed from the same start,
 * or to show how long a customer has waited in business time. The inverse of
 * `addBusinessTime`: businessTimeBetween(h, f, addBusinessTime(h, f, d)) === d.
 */
export function businessTimeBetween(hours: BusinessHours, from: number, to: number): number {
  if (!(to > from)) return 0;
  const schedule = compile(hours);
  if (!schedule.everOpens) return 0;
  if (to === Infinity) return nextOpening(hours, from) === null ? 0 : Infinity;
  const lastDay = localDay(schedule, to) + 1;
  let total = 0;
  for (let day = localDay(schedule, from) - 1; day <= lastDay; day++) {
    for (const [start, end] of openIntervalsOfDay(schedule, day)) {
      const overlap = Math.min(end, to) - Math.max(start, from);
      if (overlap > 0) total += overlap;
    }
  }
  return total;
}

/**
 * The instant of a local wall-clock time on a local date in `timezone`, with the rules of
 * this module for times that do not exist (the instant the clock jumps at) or exist twice
 * (the first occurrence). For the API and the timeline to say "opens at …", and for tests.
 * Throws RangeError on a malformed date or time or an unknown time zone.
 */
export function instantOfLocalTime(timezone: string, date: string, time: string): number {
  const day = parseDate(date);
  const minute = parseClockTime(time, true);
  if (day === null || minute === null) throw new RangeError(`Invalid local date or time: ${date} ${time}`);
  return instantOfWallClock(formatterFor(timezone), day * DAY + minute * MINUTE);
}

// ---- Validation ----------------------------------------------------------------------------

/**
 * Whether `value` names a time zone the runtime knows by an IANA name ("Europe/Madrid",
 * "UTC", "America/Argentina/Buenos_Aires"). Bare UTC offsets ("+01:00"), which newer
 * runtimes also accept, are refused: the SPEC asks for an IANA zone, which carries DST rules.
 */
export function isValidTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(value)) return false;
  try {
    formatterFor(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Everything wrong with a `businessHours` calendar (timezone, weekly, closedDates), each
 * issue at its field (`timezone`, `weekly.mon[1]`, `closedDates[0]`) so the API can report
 * them where the user typed them; [] when valid. Checks: an IANA zone; the seven weekdays,
 * each an array (use [] for a closed weekday) of ["HH:MM","HH:MM"] with start before end
 * ("24:00" only as an end) and no two intervals of a day overlapping (touching is fine, in
 * any order); dates "YYYY-MM-DD" that exist, each once. Other keys of the block are not looked at.
 */
export function businessHoursIssues(value: unknown): BusinessHoursIssue[] {
  if (!isRecord(value)) return [{ field: '', message: 'must be an object with timezone, weekly and closedDates' }];
  const issues: BusinessHoursIssue[] = [];
  if (!isValidTimeZone(value.timezone)) issues.push({ field: 'timezone', message: 'must be an IANA time zone such as Europe/Madrid' });
  issues.push(...weeklyIssues(value.weekly), ...closedDatesIssues(value.closedDates));
  return issues;
}

function weeklyIssues(weekly: unknown): BusinessHoursIssue[] {
  if (!isRecord(weekly)) return [{ field: 'weekly', message: `must be an object with the weekdays ${WEEKDAYS.join(', ')}` }];
  const issues: BusinessHoursIssue[] = [];
  for (const key of Object.keys(weekly)) {
    if (!(WEEKDAYS as readonly string[]).includes(key)) issues.push({ field: `weekly.${key}`, message: `is not a weekday (${WEEKDAYS.join(', ')})` });
  }
  for (const weekday of WEEKDAYS) {
    const field = `weekly.${weekday}`;
    const intervals = weekly[weekday];
    if (intervals === undefined) {
      issues.push({ field, message: 'is required (use [] for a day without opening hours)' });
      continue;
    }
    if (!Array.isArray(intervals)) {
      issues.push({ field, message: 'must be a list of ["HH:MM","HH:MM"] intervals' });
      continue;
    }
    const parsed: { index: number; start: number; end: number }[] = [];
    intervals.forEach((interval: unknown, index) => {
      const at = `${field}[${index}]`;
      if (!Array.isArray(interval) || interval.length !== 2) {
        issues.push({ field: at, message: 'must be a pair ["HH:MM","HH:MM"]' });
        return;
      }
      const [startText, endText] = interval as unknown[];
      const start = parseClockTime(startText, false);
      const end = parseClockTime(endText, true);
      if (start === null) issues.push({ field: at, message: `start ${JSON.stringify(startText)} must be a time HH:MM from 00:00 to 23:59` });
      if (end === null) issues.push({ field: at, message: `end ${JSON.stringify(endText)} must be a time HH:MM from 00:01 to 24:00` });
      if (start === null || end === null) return;
      if (start >= end) {
        issues.push({ field: at, message: `start ${String(startText)} must be before end ${String(endText)}` });
        return;
      }
      const clash = parsed.find((other) => other.start < end && start < other.end);
      if (clash) {
        const [otherStart, otherEnd] = intervals[clash.index] as string[];
        issues.push({ field: at, message: `overlaps ${field}[${clash.index}] (${otherStart}–${otherEnd})` });
        return;
      }
      parsed.push({ index, start, end });
    });
  }
  return issues;
}

function closedDatesIssues(dates: unknown): BusinessHoursIssue[] {
  if (!Array.isArray(dates)) return [{ field: 'closedDates', message: 'must be a list of dates YYYY-MM-DD' }];
  const issues: BusinessHoursIssue[] = [];
  const firstIndex = new Map<string, number>();
  dates.forEach((date: unknown, index) => {
    const field = `closedDates[${index}]`;
    if (typeof date !== 'string' || parseDate(date) === null) {
      issues.push({ field, message: `${JSON.stringify(date)} must be a date YYYY-MM-DD that exists` });
      return;
    }
    const earlier = firstIndex.get(date);
    if (earlier !== undefined) issues.push({ field, message: `repeats closedDates[${earlier}] (${date})` });
    else firstIndex.set(date, index);
  });
  return issues;
}

// ---- The schedule, compiled ----------------------------------------------------------------

interface Schedule {
  formatter: Intl.DateTimeFormat;
  /** Per weekday, Monday first: [startMinute, endMinute] sorted and merged. */
  weekly: [number, number][][];
  closedDates: ReadonlySet<string>;
  /** False when no weekday has an interval: the schedule never opens, no search needed. */
  everOpens: boolean;
}

/** Parses the settings once per call; unusable intervals are skipped, overlapping ones merged (robust on unvalidated data). */
function compile(hours: BusinessHours): Schedule {
  const weekly = WEEKDAYS.map((weekday) => {
    const intervals: [number, number][] = [];
    const given: unknown = hours.weekly?.[weekday];
    for (const interval of Array.isArray(given) ? (given as unknown[]) : []) {
      if (!Array.isArray(interval)) continue;
      const start = parseClockTime(interval[0], false);
      const end = parseClockTime(interval[1], true);
      if (start !== null && end !== null && start < end) intervals.push([start, end]);
    }
    intervals.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [start, end] of intervals) {
      const last = merged[merged.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else merged.push([start, end]);
    }
    return merged;
  });
  return {
    formatter: formatterFor(hours.timezone),
    weekly,
    closedDates: new Set(Array.isArray(hours.closedDates) ? hours.closedDates : []),
    everOpens: weekly.some((intervals) => intervals.length > 0),
  };
}

/** The instants [start, end) a local day is open, in order; empty intervals (inside a DST gap) dropped. */
function openIntervalsOfDay(schedule: Schedule, day: number): [number, number][] {
  const rules = schedule.weekly[weekdayIndex(day)]!;
  if (rules.length === 0 || schedule.closedDates.has(isoDate(day))) return [];
  const intervals: [number, number][] = [];
  for (const [startMinute, endMinute] of rules) {
    const start = instantOfWallClock(schedule.formatter, day * DAY + startMinute * MINUTE);
    const end = instantOfWallClock(schedule.formatter, day * DAY + endMinute * MINUTE);
    if (end > start) intervals.push([start, end]);
  }
  return intervals;
}

/** The local day (days since 1970-01-01 in the zone's calendar) of an instant. */
function localDay(schedule: Schedule, at: number): number {
  return Math.floor((at + utcOffsetAt(schedule.formatter, at)) / DAY);
}

// ---- Time zone arithmetic ------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone: constructing one is the expensive part; it throws RangeError for an unknown zone. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's offset from UTC at an instant (local wall clock minus UTC), in ms. */
function utcOffsetAt(formatter: Intl.DateTimeFormat, at: number): number {
  let year = 0;
  let month = 0;
  let dayOfMonth = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatter.formatToParts(at)) {
    const value = Number(part.value);
    if (part.type === 'year') year = value;
    else if (part.type === 'month') month = value;
    else if (part.type === 'day') dayOfMonth = value;
    else if (part.type === 'hour')
      hour = value % 24; // some ICU versions say 24 at midnight
    else if (part.type === 'minute') minute = value;
    else if (part.type === 'second') second = value;
  }
  const wallClock = daysFromCivil(year, month, dayOfMonth) * DAY + hour * HOUR + minute * MINUTE + second * SECOND;
  return wallClock - (at - mod(at, SECOND));
}

/**
 * The instant a local wall-clock time (as ms since 1970-01-01T00:00 local) names. The offsets
 * a day before and after cover any transition in between: a candidate is valid when its
 * own offset maps it back to the wall clock. Two valid → the first occurrence; none valid →
 * the time is in a gap, and the answer is the transition itself (found by bisection; only
 * for times inside a gap).
 */
function instantOfWallClock(formatter: Intl.DateTimeFormat, wallClock: number): number {
  const offsetBefore = utcOffsetAt(formatter, wallClock - DAY);
  const offsetAfter = utcOffsetAt(formatter, wallClock + DAY);
  const candidates = [wallClock - offsetBefore, wallClock - offsetAfter].sort((a, b) => a - b);
  for (const candidate of candidates) if (candidate + utcOffsetAt(formatter, candidate) === wallClock) return candidate;
  // In the gap: the offset is `offsetBefore` at `lo` and `offsetAfter` at `hi`.
  let lo = wallClock - offsetAfter;
  let hi = wallClock - offsetBefore;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (utcOffsetAt(formatter, mid) === offsetBefore) lo = mid;
    else hi = mid;
  }
  return hi;
}

// ---- Calendar helpers ------------------------------------------------------------------------

/** Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday). */
function weekdayIndex(day: number): number {
  return mod(day + 3, 7);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, dayOfMonth: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + dayOfMonth - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** "YYYY-MM-DD" of a day since 1970-01-01 (H. Hinnant's civil_from_days). */
function isoDate(day: number): string {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const dayOfMonth = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(dayOfMonth).padStart(2, '0')}`;
}

/** The day number of "YYYY-MM-DD", or null when malformed or not a real date (2026-02-30). */
function parseDate(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  const day = daysFromCivil(Number(match[1]), Number(match[2]), Number(match[3]));
  return isoDate(day) === text ? day : null;
}

/** Minutes since midnight of "HH:MM" (00:00–23:59, and "24:00" when `allowMidnightEnd`), or null. */
function parseClockTime(text: unknown, allowMidnightEnd: boolean): number | null {
  if (typeof text !== 'string') return null;
  if (text === '24:00') return allowMidnightEnd ? MINUTES_PER_DAY : null;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
