/**
 * What PostgreSQL can store: text and jsonb refuse U+0000, and jsonb refuses unpaired
 * UTF-16 surrogates. Webhooks are sanitised (a webhook that cannot be stored would fail
 * on every redelivery for days, taking its batch with it); API input is refused instead,
 * naming the field (see src/http/app.ts).
 */

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what PostgreSQL refuses
const UNSTORABLE_CHARACTERS = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// eslint-disable-next-line no-control-regex -- the same, without the global flag, for testing
const UNSTORABLE_CHARACTER = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Deeper than any Meta payload; JSON.stringify overflows the stack a few thousand levels down. */
const MAX_STORED_DEPTH = 100;

/** Unstorable characters become U+FFFD; everything else is kept as received. */
export function storableText(value: string): string {
  return value.replace(UNSTORABLE_CHARACTERS, '\ufffd');
}

export function storableJson(value: unknown): string {
  return JSON.stringify(storable(value, 0)) ?? 'null';
}

function storable(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (depth >= MAX_STORED_DEPTH) return `[nested deeper than ${MAX_STORED_DEPTH} levels: not stored]`;
  if (Array.isArray(value)) return value.map((item) => storable(item, depth + 1));
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), storable(item, depth + 1)]));
}

/**
 * The path of the first string (value or key) PostgreSQL could not store, or null.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
export function findUnstorableText(value: unknown): string | null {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (UNSTORABLE_CHARACTER.test(current)) return path || '(body)';
    } else if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push({ value: item, path: `${path}[${i}]` }));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        const child = path ? `${path}.${key}` : key;
        if (UNSTORABLE_CHARACTER.test(key)) return child;
        stack.push({ value: item, path: child });
      }
    }
  }
  return null;
}
