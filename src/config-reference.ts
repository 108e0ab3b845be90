/**
 * `npm run config-reference`: writes docs/CONFIGURATION.md from the configuration schema
 * (src/config.ts), every variable with its default and its `.describe()` text. A variable
 * without a description stops the script, naming it; test/unit/config-reference.test.ts
 * fails when the file differs from what this would write.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { envSchema } from './config';

export const CONFIGURATION_FILE = path.resolve(__dirname, '..', 'docs', 'CONFIGURATION.md');

/**
 * Variables read outside the service's schema: by the provisioning of the Temporal servers
 * (src/provisioning/) and by `npm run start:cluster` (src/cluster.ts), never by a deployed
 * worker or API. Listed here so the reference names every variable the code reads.
 */
export const TOOLING_VARIABLES: Record<string, string> = {
  INBOX_AUTOPILOT_CACHE_DIR:
    'Where provisioned Temporal servers are cached (default `$XDG_CACHE_HOME/inbox-autopilot`, else `~/.cache/inbox-autopilot`).',
  XDG_CACHE_HOME: 'The cache root when `INBOX_AUTOPILOT_CACHE_DIR` is unset.',
  TEMPORAL_CLI_PATH: 'A Temporal CLI binary to use for the dev server instead of the one `npm run provision` builds.',
  TEMPORAL_SERVER_DIR:
    'A directory with a Temporal server v1.29.1 (`server`, `sql`, `schema/postgresql/v12`) for `npm run start:cluster`, instead of the provisioned one.',
  GOFLAGS: 'Passed on to `go install` when the Temporal CLI and server are built (`-trimpath` is added).',
  TEMPORAL_TEST_SERVER_PATH: "The time-skipping test server's executable for the workflow tests, instead of the provisioned one.",
  INBOX_AUTOPILOT_SKIP_WEB_BUILD:
    '`1`: role `all` (`npm start`) skips its check that the web app is built (tests that start the service as a process of its own set it).',
  TEMPORAL_PORT:
    "`npm run start:cluster`: the Temporal server's frontend port (default 7233). The cluster also reads `PORT` (its first API; the second listens on +1), `METRICS_PORT` (+1 likewise), `EMBEDDED_POSTGRES_PORT` (default 5489) and `DATA_DIR` (default `.data/cluster`).",
};

interface Row {
  name: string;
  defaultValue: string;
  choices: string | null;
  description: string | undefined;
}

type Def = { type: string; defaultValue?: unknown; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; entries?: Record<string, string> };

/** The default and the allowed values of a variable's schema, through defaults, optionals, pipes and transforms. */
function inspect(schema: z.ZodType | undefined, depth = 0): { defaultValue?: unknown; choices?: string[]; description?: string } {
  if (!schema || depth > 10) return {};
  const own = schema.description?.trim() || undefined;
  const found = inspectInner(schema, depth);
  return { ...found, description: own ?? found.description };
}

function inspectInner(schema: z.ZodType, depth: number): { defaultValue?: unknown; choices?: string[]; description?: string } {
  const def = schema._zod.def as unknown as Def;
  switch (def.type) {
    case 'default':
      return { ...inspect(def.innerType, depth + 1), defaultValue: def.defaultValue };
    case 'optional':
    case 'nullable':
      return inspect(def.innerType, depth + 1);
    case 'pipe': {
      const input = inspect(def.in, depth + 1);
      const output = inspect(def.out, depth + 1);
      return {
        defaultValue: input.defaultValue ?? output.defaultValue,
        choices: input.choices ?? output.choices,
        description: input.description ?? output.description,
      };
    }
    case 'enum':
      return { choices: Object.values(def.entries ?? {}).filter((v) => v !== '') };
    default:
      return {};
  }
}

function rows(): Row[] {
  return Object.entries(envSchema.shape).map(([name, schema]) => {
    const { defaultValue, choices, description } = inspect(schema as z.ZodType);
    return {
      name,
      defaultValue: defaultValue === undefined ? 'unset' : `\`${String(defaultValue)}\``,
      choices: choices ? choices.map((v) => `\`${v}\``).join(', ') : null,
      description,
    };
  });
}

/** Variables of the schema that have no `.describe()`: each must get one. */
export function undocumentedVariables(): string[] {
  return rows()
    .filter((r) => !r.description)
    .map((r) => r.name);
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');

/** The text of docs/CONFIGURATION.md; throws, naming them, when a variable has no description. */
export function renderConfigurationReference(): string {
  const missing = undocumentedVariables();
  if (missing.length > 0) {
    throw new Error(
      `no description for ${missing.join(', ')}: add .describe('…') to each in the schema of src/config.ts, then run npm run config-reference`,
    );
  }
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from the schema in src/config.ts by `npm run config-reference`; do not edit by hand. -->',
    '',
    'Every process (`npm start`, `npm run worker`, `npm run api`, `npm run migrate`, and their compiled',
    'forms in `dist/`) reads its configuration from these environment variables only, validated at start:',
    'a bad value stops the start with the variable\'s name. "unset" means the variable has no default and',
    'the meaning says what happens without it.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows().map((r) => `| \`${r.name}\` | ${r.defaultValue} | ${cell(r.description!)}${r.choices ? ` One of ${r.choices}.` : ''} |`),
    '',
    '## Development and provisioning only',
    '',
    'Read by the tooling, not by a deployed worker or API:',
    '',
    '| variable | meaning |',
    '| --- | --- |',
    ...Object.entries(TOOLING_VARIABLES).map(([name, text]) => `| \`${name}\` | ${cell(text)} |`),
    '',
  ];
  return lines.join('\n');
}

if (require.main === module) {
  try {
    writeFileSync(CONFIGURATION_FILE, renderConfigurationReference());
    process.stdout.write(`wrote ${path.relative(process.cwd(), CONFIGURATION_FILE)} (${Object.keys(envSchema.shape).length} variables)\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
