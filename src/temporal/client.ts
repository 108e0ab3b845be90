import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Plain gRPC for a dev server or self-hosted cluster; TLS and an API key for Temporal Cloud. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  apiKey?: string;
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect({ address: target.address, ...(target.apiKey ? { tls: true, apiKey: target.apiKey } : {}) });
  return new Client({ connection, namespace: target.namespace });
}

export async function connectWorkerConnection(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect({ address: target.address, ...(target.apiKey ? { tls: true, apiKey: target.apiKey } : {}) });
}
