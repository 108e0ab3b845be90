import type { AssignmentStore } from '../src/assignment/assignment-store';
import type { Database } from '../src/db/knex';
import type { Logger } from '../src/logger';
import type { GraphClient } from '../src/whatsapp/graph-client';

/** What activities are built from; injected so tests can hand in real but local parts. */
export interface ActivityDeps {
  db: Database;
  assignments: AssignmentStore;
  /** null: sandbox mode, outbound messages are recorded instead of sent. */
  graph: GraphClient | null;
  log: Logger;
}
