// jsonString is JSON.stringify for strings, only faster on text that needs no escaping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonString } from '../../src/json-string.js';

describe('jsonString', () => {
  it('gives exactly what JSON.stringify gives, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string()), (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
    for (const s of ['', 'spiffe://a/b', 'a"b', 'a\\b', '\n', '\u0000', '\ud800', '\udc00x', '😀', '\u2028', '\u007f']) expect(jsonString(s)).toBe(JSON.stringify(s));
  });
});
