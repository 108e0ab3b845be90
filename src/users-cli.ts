/**
 * `npm run users -- create <login> --role admin|agent [--password …] [--name …] [--agent-id …]`
 * `npm run users -- reset-password <login> [--password …]`
 * `npm run users -- list`
 *
 * The same use cases as PUT /api/users/{login} (src/accounts/accounts.ts). Works against
 * DATABASE_URL, or the embedded PostgreSQL of DATA_DIR (the running one of `npm start`,
 * or started for the command). A password not given is generated and printed once.
 */
import { parseArgs } from 'node:util';
import { loadEnv } from './config';
import { createLogger } from './logger';
import { createDatabase, createStore, migrateToLatest } from './store';
import { embeddedPostgresUrl, startEmbeddedPostgres } from './db/embedded-postgres';
import { AccountError, resetPassword, saveUser } from './accounts/accounts';
import { generatePassword } from './accounts/passwords';
import { USER_ROLES, type UserRole } from '../workflows/rules/vocabulary';

const USAGE = `usage:
  npm run users -- create <login> --role admin|agent [--password <password>] [--name <name>] [--agent-id <agentId>]
  npm run users -- reset-password <login> [--password <password>]
  npm run users -- list`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { role: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' }, 'agent-id': { type: 'string' } },
  });
  const [command, login] = positionals;
  if (!command || (command !== 'list' && !login)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const env = loadEnv();
  const log = createLogger(env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL, env.LOG_FORMAT);

  let url = env.DATABASE_URL;
  let stopPostgres: (() => Promise<void>) | null = null;
  if (!url) {
    const running = embeddedPostgresUrl(env.EMBEDDED_POSTGRES_PORT, 'inbox_autopilot');
    const probe = createDatabase(running, 1);
    const reachable = await createStore(probe).isReachable();
    await probe.destroy();
    if (reachable) url = running;
    else {
      const pg = await startEmbeddedPostgres({ dataDir: env.DATA_DIR, port: env.EMBEDDED_POSTGRES_PORT, database: 'inbox_autopilot', log });
      url = pg.url;
      stopPostgres = () => pg.stop();
    }
  }
  const db = createDatabase(url, 2);
  try {
    await migrateToLatest(db);
    const store = createStore(db);
    if (command === 'list') {
      for (const u of await store.people.listUsers()) process.stdout.write(`${u.login}\t${u.role}\t${u.agentId ?? ''}\t${u.name}\n`);
      return 0;
    }
    if (command === 'create') {
      const role = values.role as UserRole | undefined;
      if (!role || !USER_ROLES.includes(role)) throw new AccountError('invalid', '--role must be admin or agent', 'role');
      const password = values.password ?? generatePassword();
      const { created } = await saveUser(store, { login, role, password, name: values.name, agentId: values['agent-id'] });
      process.stdout.write(`${created ? 'created' : 'updated'} ${role} ${login}${values.password ? '' : `, password: ${password}`}\n`);
      return 0;
    }
    if (command === 'reset-password') {
      const result = await resetPassword(store, login, values.password);
      process.stdout.write(`password of ${login} reset${result.generated ? `: ${result.password}` : ''}; their sessions are signed out\n`);
      return 0;
    }
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  } catch (error) {
    if (error instanceof AccountError) {
      process.stderr.write(`${error.field ? `${error.field}: ` : ''}${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await db.destroy();
    if (stopPostgres) await stopPostgres();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
