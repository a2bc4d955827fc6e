// The bench's baseline (a): a gRPC server on the same grpc-js, the same protos (src/grpc/protos.ts)
// and the same server options as the real one, whose Check handler does nothing but answer
// `{ status: { code: 0 } }`. Health is served too, so start-to-SERVING is measured the same way.
// Run as a child process from its compiled form (dist/bench-build/bench/empty-server.js, see
// bench/process.ts): `node empty-server.js --listen 127.0.0.1:PORT`. Prints `{"port":N}` once serving.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { parseArgs } from 'node:util';
import { loadAuthorizationService } from '../src/grpc/protos.js';

const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { listen: { type: 'string', default: '127.0.0.1:0' } } });
  const address = values.listen ?? '127.0.0.1:0';
  // Same options as src/grpc/server.ts.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  const check: grpc.handleUnaryCall<unknown, { status: { code: number } }> = (_call, callback) => {
    callback(null, { status: { code: 0 } });
  };
  server.addService(loadAuthorizationService(), { Check: check });
  const health = new HealthImplementation({ '': 'NOT_SERVING', [AUTHORIZATION_SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  health.setStatus('', 'SERVING');
  health.setStatus(AUTHORIZATION_SERVICE, 'SERVING');
  process.stdout.write(`${JSON.stringify({ port })}\n`);

  const stop = (): void => {
    health.setStatus('', 'NOT_SERVING');
    const timer = setTimeout(() => {
      server.forceShutdown();
      process.exit(0);
    }, 2000);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`empty-server: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
