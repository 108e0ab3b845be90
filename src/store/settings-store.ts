/**
 * The `automation_settings` table: one JSON document per number. A number nobody has
 * configured, and every block or field a stored document lacks, reads as the defaults:
 * this is the one place stored settings are read and defaulted.
 */
import type { Database } from '../db/knex';
import { type AutomationSettings, withDefaults } from '../../workflows/rules/automation-settings';

export interface SettingsStore {
  /** The number's settings, defaulted (SPEC §6). */
  get(phoneNumberId: string): Promise<AutomationSettings>;
  /** Replaces the number's settings. */
  put(phoneNumberId: string, settings: AutomationSettings): Promise<void>;
}

interface SettingsRow {
  phone_number_id: string;
  settings: Parameters<typeof withDefaults>[0];
  updated_at: Date;
}

export function createSettingsStore(db: Database): SettingsStore {
  return {
    async get(phoneNumberId) {
      const row = await db<SettingsRow>('automation_settings').where({ phone_number_id: phoneNumberId }).first('settings');
      return withDefaults(row?.settings);
    },

    async put(phoneNumberId, settings) {
      await db('automation_settings')
        .insert({ phone_number_id: phoneNumberId, settings: JSON.stringify(settings), updated_at: db.fn.now() })
        .onConflict('phone_number_id')
        .merge();
    },
  };
}
