// Unit tests for src/rollout/state-file.ts: round trip, missing and corrupt files, atomic replacement.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createStateWriter,
  loadStateFile,
  saveStateFile,
  serializeState,
  type RouteOverride,
  type RouteOverrides,
} from '../../../src/rollout/state-file.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'state-file-'));
  file = join(dir, 'rollout-state.json');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const OVERRIDE: RouteOverride = { mode: 'enforce', enforcePercent: 33.33, reason: 'INC-42 rollout', actor: 'alice', at: '2025-01-02T03:04:05.678Z' };
const OVERRIDES: RouteOverrides = { 'payments.v1': OVERRIDE, api: { ...OVERRIDE, mode: 'shadow', enforcePercent: 100 } };

function writeJson(value: unknown): void {
  writeFileSync(file, JSON.stringify(value));
}

describe('saveStateFile', () => {
  it('round-trips overrides through loadStateFile', async () => {
    expect(await saveStateFile(file, OVERRIDES)).toEqual({ ok: true });
    expect(await loadStateFile(file)).toEqual({ ok: true, overrides: OVERRIDES });
  });

  it('writes version 1 with routes sorted and leaves no temp file behind', async () => {
    await saveStateFile(file, OVERRIDES);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(serializeState(OVERRIDES));
    expect(Object.keys((JSON.parse(text) as { overrides: object }).overrides)).toEqual(['api', 'payments.v1']);
    expect((JSON.parse(text) as { version: number }).version).toBe(1);
    expect(readdirSync(dir)).toEqual(['rollout-state.json']);
  });

  it('replaces an existing file whole', async () => {
    await saveStateFile(file, OVERRIDES);
    await saveStateFile(file, { api: OVERRIDE });
    expect(await loadStateFile(file)).toEqual({ ok: true, overrides: { api: OVERRIDE } });
  });

  it('returns a problem, and leaves no temp file, when the directory does not exist', async () => {
    const r = await saveStateFile(join(dir, 'missing', 'state.json'), OVERRIDES);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain('cannot write state file');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('loadStateFile', () => {
  it('treats a missing file as no overrides', async () => {
    expect(await loadStateFile(join(dir, 'nope.json'))).toEqual({ ok: true, overrides: {} });
  });

  it('reports corrupt JSON without throwing', async () => {
    writeFileSync(file, '{"version": 1, "overrides": {');
    const r = await loadStateFile(file);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(/^state file .+ is not valid JSON: /);
  });

  it('reports an unreadable path (a directory) as a problem', async () => {
    const r = await loadStateFile(dir);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain('cannot read state file');
  });

  const bad: ReadonlyArray<readonly [string, unknown, string]> = [
    ['wrong version', { version: 2, overrides: {} }, 'version: '],
    ['missing overrides', { version: 1 }, 'overrides: '],
    ['bad mode', { version: 1, overrides: { api: { ...OVERRIDE, mode: 'block' } } }, 'overrides.api.mode: '],
    ['percent over 100', { version: 1, overrides: { api: { ...OVERRIDE, enforcePercent: 101 } } }, 'overrides.api.enforcePercent: '],
    ['percent with 3 decimals', { version: 1, overrides: { api: { ...OVERRIDE, enforcePercent: 1.234 } } }, 'overrides.api.enforcePercent: '],
    ['time not ISO', { version: 1, overrides: { api: { ...OVERRIDE, at: 'yesterday' } } }, 'overrides.api.at: '],
    ['route name with a dot, path quoted', { version: 1, overrides: { 'a.b': { ...OVERRIDE, actor: 7 } } }, 'overrides["a.b"].actor: '],
    ['unknown top-level key', { version: 1, overrides: {}, extra: true }, 'extra: unknown key'],
    ['unknown override key', { version: 1, overrides: { api: { ...OVERRIDE, colour: 'red' } } }, 'overrides.api.colour: unknown key'],
    ['invalid route name', { version: 1, overrides: { 'bad name': OVERRIDE } }, 'overrides["bad name"]: invalid key: not a valid route name'],
    ['array instead of object', [], '(root): '],
  ];
  it.each(bad)('rejects %s naming the key path', async (_name, value, fragment) => {
    writeJson(value);
    const r = await loadStateFile(file);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problem).toMatch(/^state file .+ is invalid: /);
      expect(r.problem).toContain(fragment);
    }
  });

  it('rejects "__proto__" as a route name instead of touching the prototype', async () => {
    writeFileSync(file, `{"version":1,"overrides":{"__proto__":${JSON.stringify(OVERRIDE)}}}`);
    const r = await loadStateFile(file);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain('overrides.__proto__: invalid key');
  });

  it('accepts the virtual unmatched route', async () => {
    await saveStateFile(file, { _unmatched: OVERRIDE });
    expect(await loadStateFile(file)).toEqual({ ok: true, overrides: { _unmatched: OVERRIDE } });
  });

  it('still reads the old file after a crash between writing the temp file and the rename', async () => {
    await saveStateFile(file, OVERRIDES);
    // What a crash leaves: a complete (or partial) temp file next to the untouched state file.
    writeFileSync(`${file}.tmp-999-abcdef`, serializeState({ api: OVERRIDE }).slice(0, 20));
    expect(await loadStateFile(file)).toEqual({ ok: true, overrides: OVERRIDES });
    // And the next save is not blocked by the leftover.
    expect(await saveStateFile(file, { api: OVERRIDE })).toEqual({ ok: true });
    expect(await loadStateFile(file)).toEqual({ ok: true, overrides: { api: OVERRIDE } });
  });
});

describe('createStateWriter', () => {
  it('applies overlapping saves in call order, so the last call wins', async () => {
    const writer = createStateWriter(file);
    const states: RouteOverrides[] = Array.from({ length: 8 }, (_, i) => ({ api: { ...OVERRIDE, actor: `actor-${i}` } }));
    const results = await Promise.all(states.map((s) => writer.save(s)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await loadStateFile(file)).toEqual({ ok: true, overrides: states[7] });
  });

  it('keeps serving saves after one fails', async () => {
    const bad = createStateWriter(join(dir, 'missing', 'state.json'));
    expect((await bad.save(OVERRIDES)).ok).toBe(false);
    const good = createStateWriter(file);
    expect(await good.save(OVERRIDES)).toEqual({ ok: true });
  });
});
