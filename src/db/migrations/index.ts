import type { Knex } from 'knex';
import * as initialSchema from './0001_initial_schema';
import * as sendPacingAndStatus from './0002_send_pacing_and_status';
import * as assignmentOutbox from './0003_assignment_outbox';

export interface NamedMigration extends Knex.Migration {
  name: string;
}

/** Every migration, in order. Append; never edit one that has shipped. */
export const migrations: NamedMigration[] = [
  { name: '0001_initial_schema', ...initialSchema },
  { name: '0002_send_pacing_and_status', ...sendPacingAndStatus },
  { name: '0003_assignment_outbox', ...assignmentOutbox },
];
