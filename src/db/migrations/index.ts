import type { Knex } from 'knex';
import * as initialSchema from './0001_initial_schema';
import * as sendPacingAndStatus from './0002_send_pacing_and_status';
import * as assignmentOutbox from './0003_assignment_outbox';
import * as people from './0004_people';
import * as inboundRelay from './0006_inbound_relay';
import * as timelineTimers from './0007_timeline_timers';
import * as outboundEvents from './0008_outbound_events';
import * as reassignment from './0009_reassignment';

export interface NamedMigration extends Knex.Migration {
  name: string;
}

/** Every migration, in order. Append; never edit one that has shipped. */
export const migrations: NamedMigration[] = [
  { name: '0001_initial_schema', ...initialSchema },
  { name: '0002_send_pacing_and_status', ...sendPacingAndStatus },
  { name: '0003_assignment_outbox', ...assignmentOutbox },
  { name: '0004_people', ...people },
  { name: '0006_inbound_relay', ...inboundRelay },
  { name: '0007_timeline_timers', ...timelineTimers },
  { name: '0008_outbound_events', ...outboundEvents },
  { name: '0009_reassignment', ...reassignment },
];
