/**
 * docs/CONFIGURATION.md is generated from the configuration schema (src/config.ts) by
 * `npm run config-reference`; these fail when it is out of date, when a variable has no
 * description, or when code reads an environment variable the reference does not name.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { envSchema, loadEnv } from '../../src/config';
import { CONFIGURATION_FILE, renderConfigurationReference, TOOLING_VARIABLES, undocumentedVariables } from '../../src/config-reference';

const ROOT = path.resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('configuration reference (docs/CONFIGURATION.md)', () => {
  it('when a variable of the schema has no description, then this names it', () => {
    const missing = undocumentedVariables();
    assert.deepEqual(
      missing,
      [],
      `no description for ${missing.join(', ')}: add .describe('…') to each in src/config.ts, then run npm run config-reference`,
    );
  });

  it('when docs/CONFIGURATION.md differs from what the schema generates, then this fails and says to run npm run config-reference', () => {
    const expected = renderConfigurationReference();
    const actual = existsSync(CONFIGURATION_FILE) ? readFileSync(CONFIGURATION_FILE, 'utf8') : '(missing)';
    if (actual !== expected) {
      const a = actual.split('\n');
      const e = expected.split('\n');
      const line = e.findIndex((l, i) => l !== a[i]);
      assert.fail(
        `docs/CONFIGURATION.md is out of date with src/config.ts: run \`npm run config-reference\` and commit the result.\n` +
          `first difference at line ${line + 1}:\n  file:      ${a[line] ?? '(end)'}\n  generated: ${e[line] ?? '(end)'}`,
      );
    }
  });

  it('when the reference is generated, then it lists every variable with its default', () => {
    const text = renderConfigurationReference();
    for (const name of Object.keys(envSchema.shape)) assert.match(text, new RegExp(`^\\| \`${name}\` \\|`, 'm'), name);
    const defaults = loadEnv({});
    assert.match(text, new RegExp(`^\\| \`PORT\` \\| \`${defaults.PORT}\` \\|`, 'm'));
    assert.match(text, /^\| `DATABASE_URL` \| unset \|/m);
    assert.match(text, /^\| `LOG_FORMAT` \| `auto` \| .* One of `auto`, `pretty`, `json`\. \|$/m);
  });

  it('when code in src/ or activities/ reads an environment variable by name, then the reference names it', () => {
    const documented = new Set([...Object.keys(envSchema.shape), ...Object.keys(TOOLING_VARIABLES)]);
    const unnamed = new Map<string, string>();
    for (const file of [...sourceFiles(path.join(ROOT, 'src')), ...sourceFiles(path.join(ROOT, 'activities'))]) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)) {
        const name = match[1] ?? match[2];
        if (!documented.has(name)) unnamed.set(name, path.relative(ROOT, file));
      }
    }
    assert.deepEqual(
      [...unnamed].map(([name, file]) => `${name} (${file})`),
      [],
      'read from process.env but not in the schema of src/config.ts (or TOOLING_VARIABLES of src/config-reference.ts)',
    );
  });
});
