// grpc.health.v1.Health as served by src/grpc/health.ts: its method table and codec held to the
// protocol's health.proto (the copy grpc-health-check ships, read with proto-loader), and the
// protocol's behaviour over a real grpc-js server and client on loopback: Check, Watch (current
// status, every change, unknown services), List.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { protoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HEALTH_METHODS,
  HealthService,
  LIST_LIMIT,
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  decodeHealthListRequest,
  encodeHealthCheckResponse,
  encodeHealthListResponse,
  type ServingStatus,
} from '../../../src/grpc/health.js';

const STATUSES: readonly ServingStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const definition = protoLoader.loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
const fromProto = definition['grpc.health.v1.Health'] as unknown as grpc.ServiceDefinition;
/** proto-loader's serializers of the protocol's messages, through the methods that carry them. */
const method = (name: string): grpc.MethodDefinition<unknown, unknown> => {
  const m = fromProto[name];
  if (m === undefined) throw new Error(`health.proto has no ${name}`);
  return m;
};
const request = { serialize: (v: unknown) => method('Check').requestSerialize(v) };
const response = { serialize: (v: unknown) => method('Check').responseSerialize(v), deserialize: (b: Buffer) => method('Check').responseDeserialize(b) };
const listResponse = { deserialize: (b: Buffer) => method('List').responseDeserialize(b) };

describe('HEALTH_METHODS', () => {
  it('serves every method of health.proto with its path and streaming shape', () => {
    expect(Object.keys(HEALTH_METHODS).sort()).toEqual(Object.keys(fromProto).sort());
    for (const [name, m] of Object.entries(HEALTH_METHODS)) {
      const p = fromProto[name]!;
      expect([m.path, m.requestStream, m.responseStream, m.originalName]).toEqual([p.path, p.requestStream, p.responseStream, p.originalName]);
    }
  });
});

describe('health codec against proto-loader', () => {
  it('decodes any HealthCheckRequest proto-loader encodes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (service) => {
        expect(decodeHealthCheckRequest(request.serialize({ service }))).toEqual({ service });
      }),
    );
  });

  it('skips fields it does not know, and throws on bytes that are not a message', () => {
    // service = "a", then an unknown varint field 7 and an unknown length-delimited field 9.
    expect(decodeHealthCheckRequest(Buffer.from([0x0a, 0x01, 0x61, 0x38, 0x05, 0x4a, 0x02, 0x00, 0x00]))).toEqual({ service: 'a' });
    expect(() => decodeHealthCheckRequest(Buffer.from([0x0a, 0x05, 0x61]))).toThrow();
    expect(() => decodeHealthListRequest(Buffer.from([0x0a, 0x05]))).toThrow();
    expect(decodeHealthListRequest(Buffer.alloc(0))).toEqual({});
  });

  it('encodes every HealthCheckResponse as proto-loader reads it, and reads its own bytes back', () => {
    for (const status of STATUSES) {
      expect(response.deserialize(encodeHealthCheckResponse(status))).toEqual({ status });
      expect(decodeHealthCheckResponse(response.serialize({ status }))).toBe(status);
    }
  });

  it('encodes a HealthListResponse as proto-loader reads it', () => {
    const statuses = new Map<string, ServingStatus>([
      ['', 'SERVING'],
      ['envoy.service.auth.v3.Authorization', 'NOT_SERVING'],
      ['ünïcode', 'UNKNOWN'],
    ]);
    expect(listResponse.deserialize(encodeHealthListResponse(statuses))).toEqual({
      statuses: {
        '': { status: 'SERVING' },
        'envoy.service.auth.v3.Authorization': { status: 'NOT_SERVING' },
        ünïcode: { status: 'UNKNOWN' },
      },
    });
  });
});

describe('HealthService over grpc-js on loopback', () => {
  let server: grpc.Server;
  let health: HealthService;
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  beforeAll(async () => {
    server = new grpc.Server();
    health = new HealthService({ '': 'NOT_SERVING', svc: 'NOT_SERVING' });
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const Health = grpc.makeClientConstructor(fromProto, 'Health');
    client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const check = (service: string): Promise<string> =>
    new Promise((resolve, reject) =>
      client['Check']!({ service }, (e: grpc.ServiceError | null, r: { status: string }) => (e ? reject(e) : resolve(r.status))),
    );

  it('answers Check with the status set last, and NOT_FOUND for a service it does not know', async () => {
    expect(await check('')).toBe('NOT_SERVING');
    health.setStatus('', 'SERVING');
    expect(await check('')).toBe('SERVING');
    await expect(check('nope')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'Health status unknown for service nope' });
  });

  it('streams the current status on Watch, then every change, and SERVICE_UNKNOWN for an unknown service', async () => {
    const seen: string[] = [];
    const call = client['Watch']!({ service: 'svc' }) as grpc.ClientReadableStream<{ status: string }>;
    const unknown: string[] = [];
    const other = client['Watch']!({ service: 'later' }) as grpc.ClientReadableStream<{ status: string }>;
    const until = (list: string[], n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = (): void => {
          if (list.length >= n) resolve();
          else if (Date.now() - started > 5000) reject(new Error(`only ${JSON.stringify(list)}`));
          else setTimeout(poll, 5);
        };
        poll();
      });
    call.on('data', (m: { status: string }) => seen.push(m.status));
    other.on('data', (m: { status: string }) => unknown.push(m.status));
    call.on('error', () => undefined);
    other.on('error', () => undefined);
    await until(seen, 1);
    health.setStatus('svc', 'SERVING');
    await until(seen, 2);
    health.setStatus('svc', 'NOT_SERVING');
    await until(seen, 3);
    expect(seen).toEqual(['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    await until(unknown, 1);
    health.setStatus('later', 'SERVING');
    await until(unknown, 2);
    expect(unknown).toEqual(['SERVICE_UNKNOWN', 'SERVING']);
    call.cancel();
    other.cancel();
  });

  it('lists every status, and refuses with RESOURCE_EXHAUSTED past LIST_LIMIT services', async () => {
    const list = (): Promise<Record<string, { status: string }>> =>
      new Promise((resolve, reject) =>
        client['List']!({}, (e: grpc.ServiceError | null, r: { statuses: Record<string, { status: string }> }) => (e ? reject(e) : resolve(r.statuses))),
      );
    const statuses = await list();
    expect(statuses['']).toEqual({ status: 'SERVING' });
    expect(statuses['svc']).toEqual({ status: 'NOT_SERVING' });
    for (let i = 0; i < LIST_LIMIT; i++) health.setStatus(`s${i}`, 'SERVING');
    await expect(list()).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });
});
