import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { phoneNumberIdSchema } from './identifiers';
import type { Store } from '../store';
import type { Logger } from '../logger';
import { automationSettingsInputSchema, settingsFromInput } from '../automation/settings-schema';
import { GraphApiError, type GraphClient } from '../whatsapp/graph-client';
import {
  SETTINGS_BROADCAST_WORKFLOW_TYPE,
  type SettingsBroadcastWorkflowInput,
  settingsBroadcastWorkflowId,
} from '../../workflows/settings-broadcast/contract';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const phoneNumberIdParam = z.strictObject({ phoneNumberId: phoneNumberIdSchema });

export function createAutomationRouter(deps: { store: Store; temporal: Client; taskQueue: string; graph: GraphClient | null; log: Logger }): Router {
  const router = Router();
  const { store } = deps;

  router.get('/numbers/:phoneNumberId/automation', async (req, res) => {
    const { phoneNumberId } = parseOrThrow(phoneNumberIdParam, req.params, 'path');
    res.json(await store.settings.get(phoneNumberId));
  });

  router.put('/numbers/:phoneNumberId/automation', async (req, res) => {
    const { phoneNumberId } = parseOrThrow(phoneNumberIdParam, req.params, 'path');
    const settings = settingsFromInput(parseOrThrow(automationSettingsInputSchema, req.body ?? {}, 'body'));
    const previous = await store.settings.get(phoneNumberId);

    // R2: Meta must accept the ice breakers before we keep them, so both sides agree.
    const prompts = settings.iceBreakers.enabled ? settings.iceBreakers.prompts : [];
    const previousPrompts = previous.iceBreakers.enabled ? previous.iceBreakers.prompts : [];
    if (JSON.stringify(prompts) !== JSON.stringify(previousPrompts)) {
      if (deps.graph) {
        try {
          await deps.graph.setIceBreakers(phoneNumberId, prompts);
        } catch (error) {
          if (!(error instanceof GraphApiError)) throw error;
          throw new HttpError(502, 'meta_rejected', `Meta rejected the ice breakers: ${error.message}`, [
            { field: 'iceBreakers.prompts', message: `Graph error ${error.code ?? 'unknown'}: ${error.details ?? error.message}` },
          ]);
        }
      } else {
        deps.log.info({ phoneNumberId, prompts }, 'sandbox: ice breakers not pushed to Meta');
      }
    }

    await store.settings.put(phoneNumberId, settings);
    // R12: open conversations re-arm their timers against the new values.
    const broadcast: SettingsBroadcastWorkflowInput = { phoneNumberId };
    await deps.temporal.workflow.start(SETTINGS_BROADCAST_WORKFLOW_TYPE, {
      taskQueue: deps.taskQueue,
      workflowId: settingsBroadcastWorkflowId(phoneNumberId),
      args: [broadcast],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    res.json(settings);
  });

  return router;
}
