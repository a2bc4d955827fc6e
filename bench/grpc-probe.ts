// Minimal gRPC over node:http2 for the bench's control path: poll grpc.health.v1.Health/Check until
// SERVING (no client-side reconnect backoff, so start-up is timed to a few ms), and send one Check to
// verify that a scenario's body gets the expected decision (this also warms the identity caches).
import * as http2 from 'node:http2';
import { loadAuthorizationService } from '../src/grpc/protos.js';
import { CHECK_PATH, grpcFrame } from './h2load.js';

const HEALTH_PATH = '/grpc.health.v1.Health/Check';

/** A unary gRPC answer. */
export interface UnaryAnswer {
  readonly httpStatus: number;
  readonly grpcStatus: number;
  readonly grpcMessage: string;
  /** The response message without its 5-byte frame header (undefined when none came). */
  readonly message: Buffer | undefined;
}

/** One unary call on an open session. */
export function unaryCall(session: http2.ClientHttp2Session, path: string, frame: Uint8Array, timeoutMs = 5000): Promise<UnaryAnswer> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let httpStatus = 0;
    let grpcStatus = -1;
    let grpcMessage = '';
    const timer = setTimeout(() => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`${path}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (headers) => {
      httpStatus = Number(headers[':status'] ?? 0);
      // A trailers-only answer carries grpc-status in the headers.
      if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
    });
    req.on('trailers', (trailers) => {
      if (trailers['grpc-status'] !== undefined) grpcStatus = Number(trailers['grpc-status']);
      grpcMessage = decodeURIComponent(String(trailers['grpc-message'] ?? ''));
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('close', () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks);
      const message = body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : undefined;
      resolve({ httpStatus, grpcStatus, grpcMessage, message });
    });
    req.end(Buffer.from(frame));
  });
}

function connect(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const onError = (e: Error): void => {
      session.destroy();
      reject(e);
    };
    session.once('error', onError);
    session.once('connect', () => {
      session.off('error', onError);
      session.on('error', () => undefined);
      resolve(session);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the overall health (service "") every `intervalMs` until it answers SERVING; resolves with
 * process.hrtime.bigint() at that answer. Rejects after `timeoutMs` or when `aborted()` says so.
 */
export async function waitForServing(port: number, opts: { timeoutMs?: number; intervalMs?: number; aborted?: () => string | undefined } = {}): Promise<bigint> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  const interval = opts.intervalMs ?? 2;
  const request = grpcFrame(new Uint8Array(0)); // HealthCheckRequest { service: "" }
  let session: http2.ClientHttp2Session | undefined;
  let last = 'no answer';
  try {
    while (Date.now() < deadline) {
      const why = opts.aborted?.();
      if (why !== undefined) throw new Error(why);
      try {
        session ??= await connect(port);
        const a = await unaryCall(session, HEALTH_PATH, request, 2000);
        // HealthCheckResponse { status = 1 (SERVING) }: field 1, varint → bytes 0x08 0x01.
        if (a.grpcStatus === 0 && a.message !== undefined && a.message.length >= 2 && a.message[0] === 0x08 && a.message[1] === 1) {
          return process.hrtime.bigint();
        }
        last = `grpc-status ${a.grpcStatus}, status byte ${a.message?.[1] ?? 'none'}`;
      } catch (e) {
        last = (e as Error).message;
        session?.destroy();
        session = undefined;
      }
      await sleep(interval);
    }
    throw new Error(`port ${port} did not report SERVING in time (${last})`);
  } finally {
    session?.close();
  }
}

/** What the decision metadata of a Check answer says (the fields the bench verifies). */
export interface CheckProbe {
  readonly grpcStatus: number;
  readonly statusCode: number | undefined;
  readonly metadata: Record<string, string | boolean | null>;
}

/** Sends one framed CheckRequest and decodes the answer with the server's own deserializer. */
export async function probeCheck(port: number, frame: Uint8Array): Promise<CheckProbe> {
  const session = await connect(port);
  try {
    const a = await unaryCall(session, CHECK_PATH, frame);
    if (a.grpcStatus !== 0 || a.message === undefined) throw new Error(`Check answered grpc-status ${a.grpcStatus} ${a.grpcMessage}`);
    const method = loadAuthorizationService()['Check'];
    if (method === undefined) throw new Error('Check not found');
    const res = method.responseDeserialize(a.message) as {
      status?: { code?: number };
      dynamic_metadata?: { fields?: Record<string, { stringValue?: string; boolValue?: boolean; nullValue?: unknown }> };
    };
    const metadata: Record<string, string | boolean | null> = {};
    for (const [k, v] of Object.entries(res.dynamic_metadata?.fields ?? {})) {
      metadata[k] = v.stringValue ?? v.boolValue ?? null;
    }
    return { grpcStatus: a.grpcStatus, statusCode: res.status?.code, metadata };
  } finally {
    session.close();
  }
}
