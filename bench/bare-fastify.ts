// The ceiling for HTTP benchmarks: a bare Fastify route in its own process, no auth, no I/O, answering a
// JSON body of the given size. argv: <port> <response bytes>
import Fastify from 'fastify';

const [port, bytes] = process.argv.slice(2).map(Number);
const app = Fastify({ logger: false });
const body = { ticketId: '1-1', status: 'QUEUED', pad: 'x'.repeat(Math.max(0, (bytes ?? 64) - 40)) };
app.post('/bare', async (_req, reply) => reply.status(202).send(body));
app.get('/bare', async () => body);
await app.listen({ host: '127.0.0.1', port: port ?? 28999 });
