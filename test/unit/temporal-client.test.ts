import assert from 'node:assert/strict';
import { Connection } from '@temporalio/client';
import { freePort } from '../../src/ports';
import { clientConnectionOptions } from '../../src/temporal/client';

describe('the Temporal client connection', () => {
  it('when the connection is closed while a call waits to retry, then the call rejects and nothing is thrown out of a timer', async () => {
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    // Mocha's own handler would pin the throw on whichever test runs next: listen ahead of it.
    const mochaHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', record);
    try {
      // Nothing listens there: every attempt ends UNAVAILABLE, which the SDK retries from a timer.
      const connection = Connection.lazy(clientConnectionOptions({ address: `127.0.0.1:${await freePort()}`, namespace: 'default' }));
      const call = connection.workflowService.getSystemInfo({});
      const outcome = call.then(
        () => 'answered',
        (error: Error) => error.message,
      );
      await new Promise((r) => setTimeout(r, 300));
      await connection.close();
      // Longer than the SDK's retry delays so far, so a retry scheduled before the close has fired.
      const message = await Promise.race([outcome, new Promise((r) => setTimeout(() => r('still pending after 5 s'), 5_000))]);
      assert.deepEqual({ uncaught: uncaught.map(String), message }, { uncaught: [], message: '1 CANCELLED: Channel has been shut down' });
    } finally {
      process.removeListener('uncaughtException', record);
      for (const handler of mochaHandlers) process.on('uncaughtException', handler);
    }
  });
});
