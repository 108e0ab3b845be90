import net from 'node:net';

/**
 * Ports this process has handed out. A port is free when it is picked, and stays unbound
 * until the process it was picked for starts (a cluster's API ports are picked before its
 * Temporal server picks its own, and bound only after the workers are up): without this
 * record the kernel may hand the same port out again meanwhile, and two parts of one
 * topology end up on one port.
 */
const handedOut = new Set<number>();

/** A loopback port nothing listens on right now, not handed out before by this process. */
async function claim(pick: () => Promise<number | null>): Promise<number> {
  for (;;) {
    const port = await pick();
    if (port !== null && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** A TCP port on loopback that nothing listens on right now (and not handed out before here). */
export function freePort(): Promise<number> {
  return claim(
    () =>
      new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as net.AddressInfo;
          server.close(() => resolve(port));
        });
      }),
  );
}

/**
 * A free loopback port below 32768 (Temporal stores membership ports as smallint), outside
 * the kernel's ephemeral range, so no outgoing connection takes it meanwhile.
 */
export function freeSmallPort(): Promise<number> {
  return claim(() => {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    return new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(port)));
    });
  });
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until something listens on the loopback port; false when `timeoutMs` passes first. */
export async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isListening(port))) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
