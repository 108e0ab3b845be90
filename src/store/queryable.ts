import type { Knex } from 'knex';

/** The database or a transaction open on it: store functions that join a caller's transaction take either. */
export type Queryable = Knex | Knex.Transaction;
