import net from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of `port` that holds every chunk the client sends for
 * `delayMs` (settable while it runs): a server answering every statement slowly, neither down nor
 * stalled. Chunks keep their order.
 */
export async function slowProxy(port: number) {
  const sockets = new Set<net.Socket>();
  const proxy = {
    delayMs: 0,
    port: 0,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => {
      if (proxy.delayMs === 0) upstream.write(chunk);
      else setTimeout(() => upstream.write(chunk), proxy.delayMs);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}
