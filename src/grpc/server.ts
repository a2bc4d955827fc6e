// The gRPC listener: Authorization/Check plus grpc.health.v1.Health, with graceful shutdown.
import * as grpc from '@grpc/grpc-js';
import { AUTHORIZATION_SERVICE } from '../../envoy-protos/index.js';
import { decodeCheckRequest } from './codec.js';
import { HealthService } from './health.js';
import type { WireCheckRequest } from './wire.js';

/** A listening gRPC server. */
export interface GrpcServerHandle {
  readonly port: number;
  /** Marks both the overall and the Authorization service health as SERVING or NOT_SERVING. */
  setServing(serving: boolean): void;
  /** Stops accepting calls, lets in-flight Checks finish, and forces the rest closed after `graceMs`. */
  shutdown(graceMs: number): Promise<'graceful' | 'forced'>;
}

/** The gRPC path of Authorization/Check. */
export const CHECK_PATH = `/${AUTHORIZATION_SERVICE}/Check`;

/**
 * Authorization/Check as grpc-js serves it: requests decoded by hand, responses already encoded by
 * the handler (inside its fail-closed guard, so an encoding fault is a deny, never a gRPC error).
 * The client-side halves pass bytes through (the server never uses them).
 */
export const CHECK_METHOD: grpc.MethodDefinition<WireCheckRequest, Buffer> = {
  path: CHECK_PATH,
  requestStream: false,
  responseStream: false,
  originalName: 'check',
  requestDeserialize: (bytes: Buffer) => decodeCheckRequest(bytes),
  responseSerialize: (bytes: Buffer) => bytes,
  requestSerialize: () => {
    throw new Error('the server does not encode CheckRequests');
  },
  responseDeserialize: (bytes: Buffer) => bytes,
};

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
  // Authorization/Check with this server's own codec (codec.ts, response-encoder.ts): the server
  // never needs proto-loader's reflection over Envoy's protos (~70 ms and several MB at start). The
  // path and shape are Envoy's (external_auth.proto); test/unit/grpc/protos.test.ts holds them to the
  // pinned protos.
  const service: grpc.ServiceDefinition = { Check: CHECK_METHOD };
  server.addService(service, { Check: check });
  const health = new HealthService({ '': 'NOT_SERVING', [AUTHORIZATION_SERVICE]: 'NOT_SERVING' });
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
