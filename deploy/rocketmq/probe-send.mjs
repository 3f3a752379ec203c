// Sends one NORMAL message to qf_test_normal through the gRPC proxy; exits 0 on success.
// Used by rocketmq.sh to prove the broker accepts writes before declaring it ready.
import { Producer } from 'rocketmq-client-nodejs';

const endpoints = process.argv[2] ?? '127.0.0.1:8081';
const silent = { info() {}, debug() {}, warn() {}, error() {} };
const producer = new Producer({
  endpoints,
  namespace: '',
  topic: 'qf_test_normal',
  requestTimeout: 3000,
  logger: silent,
});
const timer = setTimeout(() => {
  console.error('probe: timed out');
  process.exit(1);
}, 10000);
try {
  await producer.startup();
  await producer.send({ topic: 'qf_test_normal', tag: 'probe', body: Buffer.from('probe') });
  await producer.shutdown();
  clearTimeout(timer);
  process.exit(0);
} catch (err) {
  console.error(`probe: ${err?.message ?? err}`);
  process.exit(1);
}
