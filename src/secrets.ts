import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Env, RuntimeSecrets } from './config';

const SECRETS_FILE = 'secrets.json';

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
    mkdirSync(env.DATA_DIR, { recursive: true });
    writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
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

function readStored(file: string): Partial<RuntimeSecrets> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<RuntimeSecrets>;
  } catch {
    return {};
  }
}
