import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { Client, Connection, type ConnectionOptions, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Plain gRPC for a dev server or self-hosted cluster; TLS and an API key for Temporal Cloud. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  apiKey?: string;
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect(clientConnectionOptions(target));
  return new Client({ connection, namespace: target.namespace });
}

export function clientConnectionOptions(target: TemporalTarget): ConnectionOptions {
  return {
    ...addressAndCredentials(target),
    // The SDK's own retries, then the guard below (nearer the channel, so it sees each attempt).
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), failCallsOnClosedChannel],
  };
}

export async function connectWorkerConnection(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(addressAndCredentials(target));
}

function addressAndCredentials(target: TemporalTarget): { address: string; tls?: true; apiKey?: string } {
  return { address: target.address, ...(target.apiKey ? { tls: true as const, apiKey: target.apiKey } : {}) };
}

/**
 * The SDK retries a failed call from a timer; when the connection was closed meanwhile
 * (the service stopping while Temporal is unreachable), that retry throws "Channel has
 * been shut down" out of the timer: an uncaught exception instead of a rejected call. This
 * interceptor turns that throw into the call ending CANCELLED, which the SDK does not
 * retry, so the caller's promise rejects and the process carries on stopping.
 */
export const failCallsOnClosedChannel: Interceptor = (options, nextCall) => {
  try {
    return new InterceptingCall(nextCall(options));
  } catch (error) {
    if (!(error instanceof Error) || !/Channel has been shut down/.test(error.message)) throw error;
    return endedCall(error.message);
  }
};

/** A call that never reaches the network: it reports `CANCELLED` with `details` as soon as it starts. */
function endedCall(details: string): InterceptingCall {
  const ended: ConstructorParameters<typeof InterceptingCall>[0] = {
    start(_metadata, listener) {
      setImmediate(() => listener?.onReceiveStatus?.({ code: status.CANCELLED, details, metadata: new Metadata() }));
    },
    cancelWithStatus() {},
    getPeer: () => '',
    sendMessageWithContext() {},
    sendMessage() {},
    startRead() {},
    halfClose() {},
    getAuthContext: () => null,
  };
  return new InterceptingCall(ended);
}
