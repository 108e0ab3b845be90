import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Env, RuntimeSecrets } from './config';

const SECRETS_FILE = 'secrets.json';
/** Only the owner reads or writes secrets; only the owner enters a data directory this module creates. */
export const SECRET_FILE_MODE = 0o600;
export const DATA_DIR_MODE = 0o700;

/**
 * API keys, the app secret, the verify token and the first admin's password may be set in the environment; those
 * unset are generated once and kept in DATA_DIR, so a restart keeps the same values and
 * the simulator (which reads the same file) can sign webhooks without any setup.
 */
export function resolveSecrets(env: Env): RuntimeSecrets {
  const file = path.join(env.DATA_DIR, SECRETS_FILE);
  const stored = readStored(file);
  const generated: Partial<RuntimeSecrets> = {
    apiKeys: stored.apiKeys ?? [`iak_${randomBytes(24).toString('base64url')}`],
    appSecret: stored.appSecret ?? randomBytes(32).toString('hex'),
    verifyToken: stored.verifyToken ?? randomBytes(16).toString('hex'),
    ...((stored.adminPassword || !env.ADMIN_PASSWORD) && { adminPassword: stored.adminPassword ?? randomBytes(18).toString('base64url') }),
  };
  if (!stored.apiKeys || !stored.appSecret || !stored.verifyToken || (!stored.adminPassword && !env.ADMIN_PASSWORD)) {
    writeSecretsFile(env.DATA_DIR, file, generated);
  } else {
    restrictToOwner(file);
  }
  return {
    apiKeys: env.API_KEYS
      ? env.API_KEYS.split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : generated.apiKeys!,
    appSecret: env.WHATSAPP_APP_SECRET ?? generated.appSecret!,
    verifyToken: env.WHATSAPP_VERIFY_TOKEN ?? generated.verifyToken!,
    adminPassword: env.ADMIN_PASSWORD ?? generated.adminPassword!,
    adminPasswordGenerated: !env.ADMIN_PASSWORD,
  };
}

/**
 * Written whole (a temporary file renamed over the old one, so a crash never leaves half a
 * file), mode 0600 whatever the umask. A data directory created here is 0700.
 */
function writeSecretsFile(dataDir: string, file: string, secrets: Partial<RuntimeSecrets>): void {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(secrets, null, 2), { mode: SECRET_FILE_MODE });
  chmodSync(temporary, SECRET_FILE_MODE);
  renameSync(temporary, file);
}

/** A secrets file left readable by others (an older version, a copy, a restore) is tightened at start. */
function restrictToOwner(file: string): void {
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, SECRET_FILE_MODE);
}

function readStored(file: string): Partial<RuntimeSecrets> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<RuntimeSecrets>;
  } catch {
    return {};
  }
}
