import assert from 'node:assert/strict';
import { automationSettingsInputSchema, settingsFromInput } from '../../src/automation/settings-schema';

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
