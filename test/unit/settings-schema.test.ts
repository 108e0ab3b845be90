import assert from 'node:assert/strict';
import { automationSettingsInputSchema, settingsFromInput } from '../../src/automation/settings-schema';
import { businessHoursNow } from '../../src/http/conversations-router';

const issuesOf = (input: unknown) => {
  const result = automationSettingsInputSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('settings validation: R15 position updates', () => {
  it('when everyMinutes is 5 or 60, then it is accepted; 4 and 61 are refused naming the field', () => {
    assert.deepEqual(issuesOf({ queueReply: { positionUpdates: { everyMinutes: 5 } } }), []);
    assert.deepEqual(issuesOf({ queueReply: { positionUpdates: { everyMinutes: 60 } } }), []);
    assert.deepEqual(issuesOf({ queueReply: { positionUpdates: { everyMinutes: 4 } } }), [
      'queueReply.positionUpdates.everyMinutes: must be between 5 and 60 minutes',
    ]);
    assert.deepEqual(issuesOf({ queueReply: { positionUpdates: { everyMinutes: 61 } } }), [
      'queueReply.positionUpdates.everyMinutes: must be between 5 and 60 minutes',
    ]);
    assert.match(issuesOf({ queueReply: { positionUpdates: { everyMinutes: 7.5 } } })[0], /whole number/);
  });

  it('when the message is invalid or a key is unknown, then the field is named', () => {
    assert.match(
      issuesOf({ queueReply: { positionUpdates: { message: { type: 'text', text: { body: '' } } } } })[0],
      /^queueReply\.positionUpdates\.message/,
    );
    assert.match(issuesOf({ queueReply: { positionUpdates: { every: 5 } } })[0], /^queueReply\.positionUpdates/);
  });

  it('when only some fields are given, then the others take their defaults (off, every 15 minutes)', () => {
    const settings = settingsFromInput({ queueReply: { positionUpdates: { enabled: true } } });
    assert.equal(settings.queueReply.positionUpdates?.enabled, true);
    assert.equal(settings.queueReply.positionUpdates?.everyMinutes, 15);
    assert.match(JSON.stringify(settings.queueReply.positionUpdates?.message), /\{\{position\}\}/);
    assert.equal(settings.queueReply.enabled, true, 'the queue message itself keeps its default');
    assert.equal(settingsFromInput({}).queueReply.positionUpdates?.enabled, false);
  });
});

describe('settings validation: R14 business hours', () => {
  const weekly = {
    mon: [
      ['09:00', '13:00'],
      ['14:00', '18:00'],
    ],
    tue: [],
    wed: [],
    thu: [],
    fri: [],
    sat: [],
    sun: [],
  };

  it("when the SPEC's example is saved, then it is accepted; weekdays left out are closed", () => {
    assert.deepEqual(issuesOf({ businessHours: { enabled: true, timezone: 'Europe/Madrid', weekly, closedDates: ['2026-12-25'] } }), []);
    const saved = settingsFromInput(automationSettingsInputSchema.parse({ businessHours: { weekly: { mon: [['09:00', '17:00']] } } }));
    assert.deepEqual(saved.businessHours?.weekly.sun, []);
    assert.deepEqual(saved.businessHours?.weekly.mon, [['09:00', '17:00']]);
  });

  it('when the zone, an interval or a date is wrong, then each is named where it was typed (path segments; the API writes them as weekly.tue[0])', () => {
    assert.deepEqual(
      issuesOf({
        businessHours: {
          timezone: 'Mars/Olympus',
          weekly: {
            ...weekly,
            tue: [['10:00', '09:00']],
            wed: [
              ['09:00', '12:00'],
              ['11:59', '13:00'],
            ],
            thu: [['9:00', '10:00']],
          },
          closedDates: ['2026-02-30', '2026-12-25', '2026-12-25'],
        },
      }).map((i) => i.split(':')[0]),
      [
        'businessHours.timezone',
        'businessHours.weekly.tue.0',
        'businessHours.weekly.wed.1',
        'businessHours.weekly.thu.0',
        'businessHours.closedDates.0',
        'businessHours.closedDates.2',
      ],
    );
    assert.match(issuesOf({ businessHours: { weekly: { funday: [] } } })[0], /^businessHours\.weekly\.funday/);
    assert.match(issuesOf({ businessHours: { outOfOfficeMessage: { type: 'text', text: { body: '' } } } })[0], /^businessHours\.outOfOfficeMessage/);
  });
});

describe('settings validation: R13 reassignment', () => {
  it('when afterMinutes is 1 or 1440, then it is accepted; 0 and 1441 are refused naming the field', () => {
    assert.deepEqual(issuesOf({ reassign: { afterMinutes: 1 } }), []);
    assert.deepEqual(issuesOf({ reassign: { afterMinutes: 1440 } }), []);
    assert.deepEqual(issuesOf({ reassign: { afterMinutes: 0 } }), ['reassign.afterMinutes: must be between 1 and 1440 minutes']);
    assert.deepEqual(issuesOf({ reassign: { afterMinutes: 1441 } }), ['reassign.afterMinutes: must be between 1 and 1440 minutes']);
    assert.match(issuesOf({ reassign: { afterMinutes: 2.5 } })[0], /^reassign\.afterMinutes: .*whole number/);
    assert.match(issuesOf({ reassign: { onAgentOffline: 'yes' } })[0], /^reassign\.onAgentOffline/);
    assert.match(issuesOf({ reassign: { after: 5 } })[0], /^reassign/);
  });

  it('when nothing is given, then it is off, after 15 minutes, not on going offline', () => {
    assert.deepEqual(settingsFromInput({}).reassign, { enabled: false, afterMinutes: 15, onAgentOffline: false });
    assert.deepEqual(settingsFromInput({ reassign: { enabled: true } }).reassign, { enabled: true, afterMinutes: 15, onAgentOffline: false });
  });
});

describe('business hours as the conversation detail shows them (R14)', () => {
  const hours = {
    enabled: true,
    timezone: 'Europe/Madrid',
    pauseClocks: false,
    weekly: { mon: [['09:00', '18:00']], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } as Record<string, [string, string][]>,
    closedDates: [],
    outOfOfficeMessage: { type: 'text', text: { body: 'closed' } },
  } as unknown as Parameters<typeof businessHoursNow>[0];

  it('when the number is open, then open with no next opening; when closed, then the next opening in UTC; off, then null', () => {
    // Monday 2026-12-07 10:00 in Madrid is 09:00Z; Sunday 2026-12-06 12:00Z is closed until Monday 09:00 Madrid (08:00Z).
    assert.deepEqual(businessHoursNow(hours, Date.parse('2026-12-07T09:00:00Z')), { timezone: 'Europe/Madrid', open: true, nextOpeningAt: null });
    assert.deepEqual(businessHoursNow(hours, Date.parse('2026-12-06T12:00:00Z')), {
      timezone: 'Europe/Madrid',
      open: false,
      nextOpeningAt: '2026-12-07T08:00:00.000Z',
    });
    assert.equal(businessHoursNow({ ...hours!, enabled: false }, Date.now()), null);
    assert.equal(businessHoursNow(undefined, Date.now()), null);
  });
});
