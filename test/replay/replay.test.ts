/**
 * The safety net for long-lived workflows: every history recorded in test/fixtures/histories/
 * (by `npm run record-histories`, see record-histories.ts) is replayed against the current
 * workflow bundle. A change to workflow code that would issue different commands for a
 * recorded history (a conversation already running in production) fails here, naming the
 * history. See README "Changing workflow code".
 */
import assert from 'node:assert/strict';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import * as workflows from '../../workflows';
import { workflowBundle } from '../support/environment';
import { HISTORIES_DIR, TEST_PHONE_NUMBER_IDS, historyFiles, loadHistory, phoneNumberLikeStrings, replayable } from './histories';

const MINIMUM_HISTORIES = 10;
const files = historyFiles();
/** Every workflow the worker registers: the functions workflows/index.ts exports. */
const workflowTypes = Object.entries(workflows)
  .filter(([, value]) => typeof value === 'function')
  .map(([name]) => name)
  .sort();

describe('recorded workflow histories replay on the current workflow code', function () {
  this.timeout(60_000);
  let bundle: WorkflowBundleWithSourceMap;
  before(async () => {
    bundle = await workflowBundle();
  });

  it(`when the histories directory is read, then it holds at least ${MINIMUM_HISTORIES} histories`, () => {
    assert.ok(files.length >= MINIMUM_HISTORIES, `${HISTORIES_DIR} holds ${files.length} histories; run npm run record-histories`);
  });

  it('when the histories are read, then every workflow type exported by workflows/index.ts appears in at least one', () => {
    assert.ok(workflowTypes.length > 0, 'workflows/index.ts exports workflow functions');
    const recorded = new Set(files.map((f) => loadHistory(f).workflowType));
    const missing = workflowTypes.filter((t) => !recorded.has(t));
    assert.deepEqual(
      missing,
      [],
      `workflow types with no recorded history: ${missing.join(', ')}; add a scenario to test/replay/record-histories.ts`,
    );
  });

  it('when the histories are read, then none holds a phone-number-like string beyond the test data', () => {
    const leaks = files
      .map((f) => ({ file: f, found: phoneNumberLikeStrings(loadHistory(f), TEST_PHONE_NUMBER_IDS) }))
      .filter((l) => l.found.length > 0);
    assert.deepEqual(leaks, [], 'histories are committed: they must hold test data only');
  });

  for (const file of files) {
    const recorded = loadHistory(file);
    it(`when ${recorded.name} (${recorded.workflowType}, ${recorded.status.toLowerCase()}) is replayed, then it is deterministic`, async () => {
      try {
        await Worker.runReplayHistory({ workflowBundle: bundle, replayName: `replay-${recorded.name}` }, replayable(recorded), recorded.workflowId);
      } catch (error) {
        const e = error as Error;
        assert.fail(
          `history ${recorded.name} (test/fixtures/histories/${file}, ${recorded.workflowType} recorded from ${recorded.recordedFrom}) ` +
            `does not replay on the current workflow code: ${e.name}: ${e.message}`,
        );
      }
    });
  }
});
