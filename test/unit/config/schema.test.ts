// Pins the issues configSchema reports for the allow/deny pattern lists (code, path, message) to
// those of their plain zod definition, so that any rewrite of that part of the schema (e.g. for start-up
// speed) must keep accepting, returning and rejecting exactly the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { configSchema } from '../../../src/config/schema.js';

/** A route's allow/deny lists as zod would check them without the fast path. */
const reference = z.record(z.string(), z.array(z.string()).min(1, 'must list at least one pattern'));

/** configSchema's result for a config whose only route has `value` as its allow (or deny) lists. */
function viaConfig(list: 'allow' | 'deny', value: unknown): { success: boolean; value: unknown; issues: unknown[] } {
  const r = configSchema.safeParse({ routes: [{ name: 'a', [list]: value }] });
  return r.success
    ? { success: true, value: r.data.routes[0]?.[list], issues: [] }
    : { success: false, value: undefined, issues: r.error.issues };
}

/** The reference's result, with its issue paths under routes[0].<list> as configSchema reports them. */
function viaReference(list: 'allow' | 'deny', value: unknown): { success: boolean; value: unknown; issues: unknown[] } {
  const r = reference.safeParse(value);
  return r.success
    ? { success: true, value: r.data, issues: [] }
    : { success: false, value: undefined, issues: r.error.issues.map((i) => ({ ...i, path: ['routes', 0, list, ...i.path] })) };
}

const TD = 'prod.example.org';

describe('configSchema: the pattern lists of allow and deny', () => {
  // Pinned as zod reports them, so a change of either side shows here.
  it.each<[string, unknown, unknown[]]>([
    [
      'a list that is a string',
      { [TD]: '/x' },
      [{ code: 'invalid_type', expected: 'array', path: ['routes', 0, 'allow', TD], message: 'Invalid input: expected array, received string' }],
    ],
    [
      'a list that is null',
      { [TD]: null },
      [{ code: 'invalid_type', expected: 'array', path: ['routes', 0, 'allow', TD], message: 'Invalid input: expected array, received null' }],
    ],
    [
      'a list that is an object',
      { [TD]: { a: '/x' } },
      [{ code: 'invalid_type', expected: 'array', path: ['routes', 0, 'allow', TD], message: 'Invalid input: expected array, received object' }],
    ],
    [
      'an empty list',
      { [TD]: [] },
      [
        {
          code: 'too_small',
          origin: 'array',
          minimum: 1,
          inclusive: true,
          path: ['routes', 0, 'allow', TD],
          message: 'must list at least one pattern',
        },
      ],
    ],
    [
      'patterns that are not strings, each reported',
      { [TD]: ['/x', 5, null, ['/y']] },
      [
        { code: 'invalid_type', expected: 'string', path: ['routes', 0, 'allow', TD, 1], message: 'Invalid input: expected string, received number' },
        { code: 'invalid_type', expected: 'string', path: ['routes', 0, 'allow', TD, 2], message: 'Invalid input: expected string, received null' },
        { code: 'invalid_type', expected: 'string', path: ['routes', 0, 'allow', TD, 3], message: 'Invalid input: expected string, received array' },
      ],
    ],
    [
      'a good list next to bad ones',
      { [TD]: ['/x'], 'a.org': [], 'b.org': [1] },
      [
        {
          code: 'too_small',
          origin: 'array',
          minimum: 1,
          inclusive: true,
          path: ['routes', 0, 'allow', 'a.org'],
          message: 'must list at least one pattern',
        },
        { code: 'invalid_type', expected: 'string', path: ['routes', 0, 'allow', 'b.org', 0], message: 'Invalid input: expected string, received number' },
      ],
    ],
  ])('%s: the issues zod gives', (_name, value, issues) => {
    expect(viaConfig('allow', value)).toEqual({ success: false, value: undefined, issues });
    expect(viaReference('allow', value)).toEqual({ success: false, value: undefined, issues });
  });

  it('returns a copy of each list, not the input array', () => {
    const patterns = ['/x', '/y/**'];
    const r = viaConfig('deny', { [TD]: patterns });
    expect(r).toEqual({ success: true, value: { [TD]: ['/x', '/y/**'] }, issues: [] });
    expect((r.value as Record<string, unknown>)[TD]).not.toBe(patterns);
  });

  it('accepts, returns and rejects exactly as the plain zod definition, for any value', () => {
    const pattern = fc.oneof(fc.string({ maxLength: 8 }), fc.constant('/ns/a/sa/b'));
    const lists = fc.dictionary(
      fc.oneof(fc.constant(TD), fc.string({ maxLength: 6 })),
      fc.oneof(fc.array(pattern, { maxLength: 4 }), fc.array(fc.oneof(pattern, fc.anything()), { maxLength: 4 }), fc.anything()),
      { maxKeys: 3 },
    );
    fc.assert(
      fc.property(fc.oneof(lists, fc.anything()), fc.constantFrom('allow' as const, 'deny' as const), (value, list) => {
        // An absent list is the route schema's prefault ({}), not the record's business.
        if (value === undefined) return;
        expect(viaConfig(list, value)).toEqual(viaReference(list, value));
      }),
      { numRuns: 2000 },
    );
  });
});
