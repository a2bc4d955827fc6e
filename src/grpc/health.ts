// grpc.health.v1.Health (Check, Watch, List), the gRPC health protocol that Envoy's gRPC health
// checker, Kubernetes' grpc probe and grpc-health-probe speak, served with a codec written here.
//
// Why not the grpc-health-check package: it loads health.proto with proto-loader when it is
// imported (protobufjs parses the file, builds its reflection and generates code), and then pulls
// proto-loader and protobufjs's full build into the server: ~30-40 ms of every start before the
// server can say SERVING (CPU profile of a start with the 1,000-route policy: 41 ms of its module's
// evaluation). The protocol is two one-field messages; test/unit/grpc/health.test.ts holds this codec
// and the method table to the package's health.proto through proto-loader, as protos.test.ts does
// for Check. Semantics follow grpc-health-check 2.x and the protocol's doc: Check of an unknown
// service is NOT_FOUND; Watch sends the current status (SERVICE_UNKNOWN for an unknown service) and
// then every change, until the caller cancels; List returns every status, RESOURCE_EXHAUSTED past
// 100 services.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/minimal.js';

/** The service's full name. */
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** HealthCheckResponse.ServingStatus, by name. */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

const STATUS_NUMBERS: Readonly<Record<ServingStatus, number>> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };
const STATUS_NAMES: readonly ServingStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** Most services List answers with; more is RESOURCE_EXHAUSTED (as grpc-health-check does). */
export const LIST_LIMIT = 100;

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** HealthCheckRequest { string service = 1; }: unknown fields skipped, as proto3 parsers do. */
export function decodeHealthCheckRequest(bytes: Uint8Array): { service: string } {
  const r = protobuf.Reader.create(bytes);
  let service = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    // Through bytes(), which checks the length: protobufjs's string() on a Buffer clamps a
    // truncated string to the end of the input instead of failing.
    if (tag === 0x0a) service = utf8(r.bytes());
    else r.skipType(tag & 7);
  }
  return { service };
}

/** HealthListRequest {}: any fields are unknown ones, skipped; bytes that are not a message throw. */
export function decodeHealthListRequest(bytes: Uint8Array): Record<string, never> {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) r.skipType(r.uint32() & 7);
  return {};
}

/** HealthCheckResponse { ServingStatus status = 1; }: UNKNOWN (0) is the empty message, as proto3 writes it. */
export function encodeHealthCheckResponse(status: ServingStatus): Buffer {
  const n = STATUS_NUMBERS[status];
  return n === 0 ? Buffer.alloc(0) : Buffer.from([0x08, n]);
}

/** HealthListResponse { map<string, HealthCheckResponse> statuses = 1; }. */
export function encodeHealthListResponse(statuses: ReadonlyMap<string, ServingStatus>): Buffer {
  const w = protobuf.Writer.create();
  for (const [service, status] of statuses) {
    w.uint32(0x0a).fork(); // statuses (1): a map entry
    w.uint32(0x0a).string(service); // key (1)
    w.uint32(0x12).bytes(encodeHealthCheckResponse(status)); // value (2)
    w.ldelim();
  }
  return Buffer.from(w.finish());
}

/** For tests and tools: a HealthCheckResponse's status by name. */
export function decodeHealthCheckResponse(bytes: Uint8Array): ServingStatus {
  const r = protobuf.Reader.create(bytes);
  let status = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 0x08) status = r.int32();
    else r.skipType(tag & 7);
  }
  return STATUS_NAMES[status] ?? 'UNKNOWN';
}

const passBytes = (b: Buffer): Buffer => b;
const refuseToEncode = (): never => {
  throw new Error('the server does not encode health requests');
};

/** One method as grpc-js serves it: the request decoded here, the response already encoded bytes. */
function method<Req>(name: 'Check' | 'Watch' | 'List', responseStream: boolean, requestDeserialize: (bytes: Buffer) => Req): grpc.MethodDefinition<Req, Buffer> {
  return {
    path: `/${HEALTH_SERVICE}/${name}`,
    requestStream: false,
    responseStream,
    originalName: name.toLowerCase(),
    requestDeserialize,
    responseSerialize: passBytes,
    requestSerialize: refuseToEncode,
    responseDeserialize: passBytes,
  };
}

/** The service's methods as grpc-js serves them. */
export const HEALTH_METHODS = {
  Check: method('Check', false, decodeHealthCheckRequest),
  Watch: method('Watch', true, decodeHealthCheckRequest),
  List: method('List', false, decodeHealthListRequest),
} satisfies grpc.ServiceDefinition;

/** Serving statuses by service name ('' is the whole server), with their watchers. */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<(status: ServingStatus) => void>>();

  constructor(initial: Readonly<Record<string, ServingStatus>> = {}) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  /** Sets a service's status and tells its watchers (every Watch stream sends it). */
  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const notify of this.watchers.get(service) ?? []) notify(status);
  }

  /** Registers Check, Watch and List on `server`. */
  addToServer(server: grpc.Server): void {
    const check: grpc.handleUnaryCall<{ service: string }, Buffer> = (call, callback) => {
      const status = this.statuses.get(call.request.service);
      if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: `Health status unknown for service ${call.request.service}` });
      else callback(null, encodeHealthCheckResponse(status));
    };
    const watch: grpc.handleServerStreamingCall<{ service: string }, Buffer> = (call) => {
      const service = call.request.service;
      const notify = (status: ServingStatus): void => {
        call.write(encodeHealthCheckResponse(status));
      };
      let set = this.watchers.get(service);
      if (set === undefined) this.watchers.set(service, (set = new Set()));
      set.add(notify);
      call.on('cancelled', () => {
        set.delete(notify);
        if (set.size === 0 && this.watchers.get(service) === set) this.watchers.delete(service);
      });
      notify(this.statuses.get(service) ?? 'SERVICE_UNKNOWN');
    };
    const list: grpc.handleUnaryCall<Record<string, never>, Buffer> = (_call, callback) => {
      if (this.statuses.size > LIST_LIMIT) callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'Too many services to list.' });
      else callback(null, encodeHealthListResponse(this.statuses));
    };
    server.addService(HEALTH_METHODS, { Check: check, Watch: watch, List: list });
  }
}
