// Decision ids: one per Check, to correlate the answer's dynamic_metadata, Envoy's access log and our
// decision log line. They must be unique, not secret: nothing is authorised by knowing one. So instead
// of crypto.randomUUID per call (~90 ns, most of it the entropy pool), a generator draws 74 random bits
// once and appends a 48-bit counter, laid out as an RFC 9562 UUID of version 8 (custom layout):
//
//   rrrrrrrr-rrrr-8rrr-Vrrr-cccccccccccc      r random per generator, V in 8..b (variant 10), c counter
//
// Unique within a generator by the counter (a new random prefix is drawn before it would wrap, after
// 2^48 ids); between processes and restarts by the 74 random bits (a collision of two prefixes among a
// million generators has probability ~3e-11).
import { randomBytes } from 'node:crypto';

const HEX = '0123456789abcdef';
/** "00" … "ff". */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => HEX.charAt(i >> 4) + HEX.charAt(i & 15));
/** Ids per counter block: the low 16 bits change per id, the block's head is formatted once. */
const BLOCK = 0x1_0000;
/** Counter values available before a new prefix is drawn (48 bits). */
const COUNTER_LIMIT = 2 ** 48;

/** Where the random prefix comes from: `n` random bytes (tests pass a fixed source). */
export type RandomSource = (n: number) => Uint8Array;

/** Matches a decision id of this generator (a version 8, variant 10 UUID in lower case). */
export const DECISION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 24-character random part "rrrrrrrr-rrrr-8rrr-Vrrr-" from 10 random bytes (74 bits used). */
function randomPrefix(random: RandomSource): string {
  const b = random(10);
  if (b.length < 10) throw new Error('decision id: random source returned fewer than 10 bytes');
  const h = (i: number): string => HEX2[b[i] as number] as string;
  // Byte 6's high nibble becomes the version (8), byte 8's two high bits the variant (10).
  const version = '8' + HEX.charAt((b[6] as number) & 15);
  const variant = HEX2[((b[8] as number) & 0x3f) | 0x80] as string;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${version}${h(7)}-${variant}${h(9)}-`;
}

/** How a generator starts: its random source, and (tests only) the first counter value. */
export interface DecisionIdOptions {
  readonly random?: RandomSource;
  readonly firstCounter?: number;
}

/**
 * A generator of unique decision ids (see the header for the layout). Each call costs two string
 * concatenations; once per 65,536 ids the block's head is formatted.
 */
export function createDecisionIdGenerator(options: DecisionIdOptions = {}): () => string {
  const random = options.random ?? randomBytes;
  let prefix = randomPrefix(random);
  let counter = options.firstCounter ?? 0;
  if (!Number.isSafeInteger(counter) || counter < 0 || counter >= COUNTER_LIMIT) throw new RangeError('decision id: firstCounter out of range');
  let head = '';
  return () => {
    if (counter >= COUNTER_LIMIT) {
      prefix = randomPrefix(random);
      counter = 0;
      head = '';
    }
    const low = counter % BLOCK;
    // The 8 hex digits above the low 16 bits (counter / 2^16 < 2^32), formatted once per block.
    if (low === 0 || head === '') head = prefix + Math.floor(counter / BLOCK).toString(16).padStart(8, '0');
    counter++;
    return head + (HEX2[low >>> 8] as string) + (HEX2[low & 0xff] as string);
  };
}

/** The process-wide generator the server uses (src/app.ts, src/grpc/check-handler.ts). */
export const newDecisionId: () => string = createDecisionIdGenerator();
