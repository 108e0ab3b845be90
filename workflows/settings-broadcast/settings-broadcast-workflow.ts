import { continueAsNew, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { database } from '../activity-profiles';
import { settingsChangedSignal } from '../conversation/contract';
import type { SettingsBroadcastWorkflowInput } from './contract';

const PAGE_SIZE = 200;

/**
 * R12: hands a number's saved settings to each of its open conversations, which re-arm
 * their timers from the same starting moments. A newer save replaces a running broadcast
 * (the API starts it with TERMINATE_EXISTING), so the newest settings always win. Pages
 * through conversations with continue-as-new, so a number with many open conversations
 * never grows one long history.
 */
export async function settingsBroadcastWorkflow(input: SettingsBroadcastWorkflowInput): Promise<void> {
  const settings = await database.loadAutomationSettings(input.phoneNumberId);
  const page = await database.listOpenConversations({
    phoneNumberId: input.phoneNumberId,
    afterConversationId: input.afterConversationId ?? null,
    limit: PAGE_SIZE,
  });
  await Promise.all(
    page.map(async (c) => {
      try {
        await getExternalWorkflowHandle(c.workflowId).signal(settingsChangedSignal, { settings });
      } catch (error) {
        // Closed meanwhile: its next conversation loads the settings fresh.
        log.debug('settings not delivered', { conversationId: c.conversationId, error: String(error) });
      }
    }),
  );
  if (page.length === PAGE_SIZE) {
    await continueAsNew<typeof settingsBroadcastWorkflow>({
      phoneNumberId: input.phoneNumberId,
      afterConversationId: page[page.length - 1].conversationId,
    });
  }
}
