// Tests for the decision id generator: UUID-shaped (version 8, variant 10), unique per generator by
// its counter, across generators by the random prefix, and a new prefix before the counter wraps.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECISION_ID_PATTERN, createDecisionIdGenerator, newDecisionId } from '../../../src/authz/decision-id.js';

const fixed = (byte: number) => (n: number): Uint8Array => new Uint8Array(n).fill(byte);

describe('createDecisionIdGenerator', () => {
  it('gives ids shaped like a version 8 UUID, in lower case', () => {
    const next = createDecisionIdGenerator();
    for (let i = 0; i < 1000; i++) {
      const id = next();
      expect(id).toMatch(DECISION_ID_PATTERN);
      expect(id).toMatch(/^[0-9a-f-]{36}$/); // what Envoy access logs and our tests expect of a decision id
    }
  });

  it('sets the version and variant bits whatever the random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 10, maxLength: 10 }), (bytes) => {
        const id = createDecisionIdGenerator({ random: () => bytes })();
        expect(id).toMatch(DECISION_ID_PATTERN);
        expect(id.charAt(14)).toBe('8');
        expect('89ab').toContain(id.charAt(19));
      }),
    );
  });

  it('never repeats an id within a generator, across counter blocks', () => {
    // Start below a 65,536-id block boundary so the block head is reformatted on the way.
    const next = createDecisionIdGenerator({ firstCounter: 0x1_0000 - 5_000 });
    const seen = new Set<string>();
    for (let i = 0; i < 70_000; i++) seen.add(next());
    expect(seen.size).toBe(70_000);
  });

  it('counts in the last 12 hex digits under a fixed prefix', () => {
    const next = createDecisionIdGenerator({ random: fixed(0xab), firstCounter: 0xffff });
    expect(next()).toBe('abababab-abab-8bab-abab-00000000ffff');
    expect(next()).toBe('abababab-abab-8bab-abab-000000010000');
    expect(next()).toBe('abababab-abab-8bab-abab-000000010001');
  });

  it('draws a new random prefix before the 48-bit counter would wrap', () => {
    let calls = 0;
    const random = (n: number): Uint8Array => new Uint8Array(n).fill(calls++ === 0 ? 0x11 : 0x22);
    const next = createDecisionIdGenerator({ random, firstCounter: 2 ** 48 - 1 });
    expect(next()).toBe('11111111-1111-8111-9111-ffffffffffff');
    expect(next()).toBe('22222222-2222-8222-a222-000000000000');
    expect(calls).toBe(2);
  });

  it('gives different ids in different generators (random prefixes)', () => {
    const a = createDecisionIdGenerator();
    const b = createDecisionIdGenerator();
    expect(a().slice(0, 24)).not.toBe(b().slice(0, 24));
  });

  it('refuses a first counter outside 0 .. 2^48 - 1 and a short random source', () => {
    expect(() => createDecisionIdGenerator({ firstCounter: -1 })).toThrow(RangeError);
    expect(() => createDecisionIdGenerator({ firstCounter: 2 ** 48 })).toThrow(RangeError);
    expect(() => createDecisionIdGenerator({ random: () => new Uint8Array(4) })).toThrow(/fewer than 10 bytes/);
  });
});

describe('newDecisionId', () => {
  it('is one process-wide generator: consecutive ids share the prefix and differ', () => {
    const a = newDecisionId();
    const b = newDecisionId();
    expect(a).toMatch(DECISION_ID_PATTERN);
    expect(b).not.toBe(a);
    expect(b.slice(0, 24)).toBe(a.slice(0, 24));
  });
});
