// A port nothing listens on right now, for a server a test cannot start on port 0 itself: one
// that must come back on the same port (a proxy reopened after an outage), or one in a child
// process the test must reach (a worker's /metrics). Another process could take the port in
// between; the server then fails to start, loudly.
import { createServer, type AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
