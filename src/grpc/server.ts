// The gRPC listener: Authorization/Check plus grpc.health.v1.Health, with graceful shutdown.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { AUTHORIZATION_SERVICE } from '../../envoy-protos/index.js';
import { decodeCheckRequest } from './codec.js';
import { loadAuthorizationService } from './protos.js';
import type { WireCheckRequest } from './wire.js';

/** A listening gRPC server. */
export interface GrpcServerHandle {
  readonly port: number;
  /** Marks both the overall and the Authorization service health as SERVING or NOT_SERVING. */
  setServing(serving: boolean): void;
  /** Stops accepting calls, lets in-flight Checks finish, and forces the rest closed after `graceMs`. */
  shutdown(graceMs: number): Promise<'graceful' | 'forced'>;
}

/** Default largest CheckRequest accepted (config limits.maxRequestBytes). */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * Binds the server on "host:port" and starts serving; health starts NOT_SERVING. A message over
 * `maxRequestBytes` is refused by grpc-js's framing with RESOURCE_EXHAUSTED before it is decoded;
 * Envoy then applies failure_mode_allow (false: the request is denied).
 */
export async function startGrpcServer(
  address: string,
  check: grpc.handleUnaryCall<WireCheckRequest, Buffer>,
  maxRequestBytes: number = DEFAULT_MAX_REQUEST_BYTES,
): Promise<GrpcServerHandle> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxRequestBytes });
  // The Check method with this server's own codec (codec.ts) instead of proto-loader's generic one.
  const base = loadAuthorizationService();
  const service: grpc.ServiceDefinition = {
    ...base,
    Check: {
      ...(base['Check'] as grpc.MethodDefinition<WireCheckRequest, Buffer>),
      requestDeserialize: (bytes: Buffer) => decodeCheckRequest(bytes),
      // The handler answers with the encoded response (check-handler.ts: encoded inside its
      // fail-closed guard, so an encoding fault is a deny, never a gRPC error).
      responseSerialize: (bytes: Buffer) => bytes,
    },
  };
  server.addService(service, { Check: check });
  const health = new HealthImplementation({ '': 'NOT_SERVING', [AUTHORIZATION_SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port,
    setServing(serving) {
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      health.setStatus(AUTHORIZATION_SERVICE, status);
    },
    shutdown(graceMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve('forced');
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve('graceful');
        });
      });
    },
  };
}
