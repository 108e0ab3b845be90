import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { phoneNumberIdSchema } from './identifiers';
import type { Database } from '../db/knex';
import type { Logger } from '../logger';
import { automationSettingsInputSchema, settingsFromInput } from '../automation/settings-schema';
import { GraphApiError, type GraphClient } from '../whatsapp/graph-client';
import { withDefaults } from '../../workflows/rules/automation-settings';
import { settingsBroadcastWorkflowId, type settingsBroadcastWorkflow } from '../../workflows/settings-broadcast-workflow';
import { HttpError } from './errors';
import { parseOrThrow } from './validation';

export const phoneNumberIdParam = z.strictObject({ phoneNumberId: phoneNumberIdSchema });

export function createAutomationRouter(deps: { db: Database; temporal: Client; taskQueue: string; graph: GraphClient | null; log: Logger }): Router {
  const router = Router();
  const { db } = deps;

  router.get('/numbers/:phoneNumberId/automation', async (req, res) => {
    const { phoneNumberId } = parseOrThrow(phoneNumberIdParam, req.params, 'path');
    const row = await db('automation_settings').where({ phone_number_id: phoneNumberId }).first('settings');
    res.json(withDefaults(row?.settings));
  });

  router.put('/numbers/:phoneNumberId/automation', async (req, res) => {
    const { phoneNumberId } = parseOrThrow(phoneNumberIdParam, req.params, 'path');
    const settings = settingsFromInput(parseOrThrow(automationSettingsInputSchema, req.body ?? {}, 'body'));
    const previous = withDefaults((await db('automation_settings').where({ phone_number_id: phoneNumberId }).first('settings'))?.settings);

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

    await db('automation_settings')
      .insert({ phone_number_id: phoneNumberId, settings: JSON.stringify(settings), updated_at: db.fn.now() })
      .onConflict('phone_number_id')
      .merge();
    // R12: open conversations re-arm their timers against the new values.
    await deps.temporal.workflow.start<typeof settingsBroadcastWorkflow>('settingsBroadcastWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId: settingsBroadcastWorkflowId(phoneNumberId),
      args: [{ phoneNumberId }],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    res.json(settings);
  });

  return router;
}
