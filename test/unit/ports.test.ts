import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, freeSmallPort } from '../../src/ports';

/**
 * Ports are picked before the processes that bind them start (a cluster's API ports before
 * its Temporal server picks its own), so one process must never hand the same port out twice.
 */
describe('free ports', () => {
  it('when many ports are handed out in one process before any is bound, then none is handed out twice', async () => {
    const ports = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    for (let i = 0; i < 100; i++) ports.push(await freeSmallPort());
    assert.equal(new Set(ports).size, ports.length);
  });

  it('when a small port is asked for, then it is below 32768 (Temporal stores membership ports as smallint) and can be bound', async () => {
    const port = await freeSmallPort();
    assert.ok(port >= 20_000 && port < 32_768, String(port));
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => server.close(r));
  });
});
