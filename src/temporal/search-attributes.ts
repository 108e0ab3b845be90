import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from '../logger';
import { ALL_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/search-attributes';

/**
 * Registers our search attributes on a self-hosted cluster (the dev server gets them on
 * its command line). Temporal Cloud manages them in its console: there this only warns.
 */
export async function ensureSearchAttributes(client: Client, namespace: string, log: Logger): Promise<void> {
  try {
    // Some servers (the time-skipping test server) cannot list them: then add them all.
    const existing = await client.connection.operatorService
      .listSearchAttributes({ namespace })
      .then((r) => r.customAttributes ?? {})
      .catch(() => ({}));
    const missing = ALL_SEARCH_ATTRIBUTE_KEYS.filter((k) => !(k.name in existing));
    if (missing.length === 0) return;
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    log.info({ added: missing.map((k) => k.name) }, 'registered search attributes');
  } catch (error) {
    log.warn(
      { err: error },
      `could not register search attributes (${ALL_SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).join(', ')}); register them as Keyword in your Temporal namespace`,
    );
  }
}
