/** A TCP listener on 127.0.0.1 that counts and drops its connections (for tests of what may connect). */
import { createServer, type AddressInfo, type Server } from "node:net";

export async function listener(): Promise<{ server: Server; port: number; accepted: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return { server, port: (server.address() as AddressInfo).port, accepted: () => n };
}
