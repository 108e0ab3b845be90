/** The repository's Dockerfile, parsed just enough for tests: its args, stages and instructions. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DOCKERFILE = path.resolve(__dirname, '..', '..', 'Dockerfile');

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text = readFileSync(DOCKERFILE, 'utf8')): ParsedDockerfile {
  // Comments go, continuation lines join.
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=');
      args[name] = value;
    } else if (upper === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      stages.push({
        image: image.replace(/\$\{(\w+)\}/g, (_, v: string) => args[v] ?? ''),
        name: as?.toUpperCase() === 'AS' ? name : null,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args: rest });
    }
  }
  return { args, stages };
}

/** The command of an exec-form (JSON array) CMD or HEALTHCHECK CMD. */
export function execForm(args: string): string[] {
  return JSON.parse(args.replace(/^.*?CMD\s+/, '')) as string[];
}
