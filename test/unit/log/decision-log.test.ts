// The hand-written decision line must be valid JSON with exactly the documented fields, whatever
// text the caller controls (path, host, request id) contains.
import fc from 'fast-check';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CheckInput, Verdict } from '../../../src/authz/types.js';
import { formatDecisionLine, logDecision } from '../../../src/log/decision-log.js';

const VERDICT: Verdict = {
  decisionId: 'd-1',
  route: 'orders',
  mode: 'enforce',
  enforcePercent: 30,
  decision: 'deny',
  effect: 'deny',
  reason: 'NO_MATCHING_RULE',
  detail: 'no allow rule of route "orders" matches this ID',
  rule: '',
  identity: { spiffeId: 'spiffe://prod.example.org/ns/a/sa/b', trustDomain: 'prod.example.org', path: '/ns/a/sa/b', source: 'principal', agreed: ['certificate'] },
};

const INPUT: CheckInput = {
  requestId: 'r-1',
  host: 'orders.internal',
  method: 'POST',
  path: '/v1/orders',
  headers: { authorization: 'Bearer secret' },
  principal: 'spiffe://prod.example.org/ns/a/sa/b',
  certificate: '',
  routeName: 'orders',
};

const FIELDS = {
  decisionId: 'd-1',
  requestId: 'r-1',
  route: 'orders',
  mode: 'enforce',
  enforcePercent: 30,
  decision: 'deny',
  effect: 'deny',
  reason: 'NO_MATCHING_RULE',
  detail: 'no allow rule of route "orders" matches this ID',
  rule: '',
  spiffeId: 'spiffe://prod.example.org/ns/a/sa/b',
  identitySource: 'principal',
  agreedSources: ['certificate'],
  host: 'orders.internal',
  method: 'POST',
  path: '/v1/orders',
  durationUs: 42,
};

describe('formatDecisionLine', () => {
  it('writes one JSON line with exactly the documented fields', () => {
    const line = formatDecisionLine('"level":"info","time":"2026-11-24T00:00:00.000Z","service":"spiffe-ext-authz"', VERDICT, INPUT, 42);
    expect(line.endsWith('}\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ level: 'info', time: '2026-11-24T00:00:00.000Z', service: 'spiffe-ext-authz', msg: 'decision', ...FIELDS });
  });

  it('writes null identity fields and no input fields when they are missing', () => {
    const parsed = JSON.parse(formatDecisionLine('"level":50', { ...VERDICT, identity: undefined }, undefined, 0)) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 50, spiffeId: null, identitySource: null, agreedSources: [], requestId: '', host: '', method: '', path: '' });
  });

  it('stays valid JSON and keeps caller text exact, whatever it contains', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), fc.string({ unit: 'grapheme' }), (path, host, requestId) => {
        const parsed = JSON.parse(formatDecisionLine('"level":30', VERDICT, { ...INPUT, path, host, requestId }, 1)) as Record<string, unknown>;
        expect([parsed['path'], parsed['host'], parsed['requestId']]).toEqual([path, host, requestId]);
      }),
      { numRuns: 300 },
    );
  });

  it('reuses a fragment only for the same identity and request: every line carries its own values', () => {
    const noAgreed = (spiffeId: string, source: 'principal' | 'xfcc'): Verdict => ({ ...VERDICT, identity: { spiffeId, trustDomain: 'prod.example.org', path: '/x', source, agreed: [] } });
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.constantFrom('spiffe://prod.example.org/a', 'spiffe://prod.example.org/b'), source: fc.constantFrom('principal' as const, 'xfcc' as const), host: fc.constantFrom('h1', 'h2'), method: fc.constantFrom('GET', 'POST'), path: fc.constantFrom('/p', '/q', '/p"') }), { minLength: 2, maxLength: 12 }),
        (checks) => {
          for (const c of checks) {
            const parsed = JSON.parse(formatDecisionLine('"level":30', noAgreed(c.id, c.source), { ...INPUT, host: c.host, method: c.method, path: c.path }, 1)) as Record<string, unknown>;
            expect([parsed['spiffeId'], parsed['identitySource'], parsed['agreedSources'], parsed['host'], parsed['method'], parsed['path']]).toEqual([c.id, c.source, [], c.host, c.method, c.path]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('logDecision', () => {
  function capture(level = 'info'): { logger: pino.Logger; lines: string[] } {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    return { logger: pino({ level }, sink), lines };
  }

  it.each([
    ['all', 'allow', 1],
    ['all', 'deny', 1],
    ['deny', 'allow', 0],
    ['deny', 'deny', 1],
    ['none', 'deny', 0],
  ] as const)('with log.decisions %s writes %s decisions %i time(s)', (filter, decision, count) => {
    const { logger, lines } = capture();
    logDecision(logger, filter, { ...VERDICT, decision }, INPUT, 5);
    expect(lines).toHaveLength(count);
  });

  it('respects the logger level: info lines are not written at warn, INTERNAL_ERROR lines are', () => {
    const { logger, lines } = capture('warn');
    logDecision(logger, 'all', VERDICT, INPUT, 5);
    logDecision(logger, 'all', { ...VERDICT, reason: 'INTERNAL_ERROR' }, INPUT, 5);
    expect(lines.map((l) => (JSON.parse(l) as { reason: string }).reason)).toEqual(['INTERNAL_ERROR']);
  });

  it('writes the line as pino would: its level format, time and base fields', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const logger = pino(
      { base: { service: 'spiffe-ext-authz' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
      sink,
    ).child({ component: 'grpc' });
    logDecision(logger, 'all', VERDICT, INPUT, 42);
    logger.info({ other: 1 }, 'other');
    const [ours, pinos] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ours).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), service: 'spiffe-ext-authz', component: 'grpc', msg: 'decision', ...FIELDS });
    expect(Object.keys(pinos!).slice(0, 4)).toEqual(Object.keys(ours!).slice(0, 4));
  });

  it('never writes the request headers', () => {
    const { logger, lines } = capture();
    logDecision(logger, 'all', VERDICT, INPUT, 5);
    expect(lines.join('')).not.toContain('secret');
  });
});
