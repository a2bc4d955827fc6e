// Unit tests for src/config/reload.ts: a good file swaps, a bad one keeps the running config with
// every issue logged and counted, reloads never overlap, and the file watcher picks up changes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigSnapshot } from '../../../src/config/compile.js';
import type { ConfigResult } from '../../../src/config/issues.js';
import { createReloader, fileStamp, loadConfigForReload, type Reloader, type ReloaderDeps } from '../../../src/config/reload.js';

let dir: string;
let file: string;
let logs: Record<string, unknown>[];
let results: string[];
let swapped: ConfigSnapshot[];
let reloader: Reloader | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'reload-'));
  file = join(dir, 'config.yaml');
  logs = [];
  results = [];
  swapped = [];
});
afterEach(() => {
  reloader?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function deps(over: Partial<ReloaderDeps> = {}): ReloaderDeps {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return {
    configPath: file,
    load: (p) => loadConfigForReload(p, 0),
    prepare: () => ({
      ok: true,
      value: (next) => {
        swapped.push(next);
        return { droppedOverrides: [], restartRequired: [] };
      },
    }),
    logger: pino({ level: 'debug', base: undefined, messageKey: 'msg' }, sink),
    recordReload: (r) => results.push(r),
    ...over,
  };
}

const GOOD = `routes: [{ name: r1, mode: warn }, { name: r2 }]`;

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('createReloader', () => {
  it('swaps a valid file and reports its summary', async () => {
    writeFileSync(file, GOOD);
    reloader = createReloader(deps());
    const r = await reloader.reload('api');
    expect(r).toMatchObject({ ok: true, summary: { source: file, routes: 2, trustDomains: 0, droppedOverrides: [], restartRequired: [] } });
    expect(swapped.map((s) => s.routes.map((x) => x.name))).toEqual([['r1', 'r2']]);
    expect(results).toEqual(['success']);
    expect(logs.find((l) => l['msg'] === 'config reloaded')).toMatchObject({ trigger: 'api', routes: 2 });
  });

  it('keeps the running config on an invalid file, logs every issue with its key path and counts the failure', async () => {
    writeFileSync(file, `routes: [{ name: r1, mode: nope, colour: blue }]\nrollout: { gate: { window: 2h } }`);
    reloader = createReloader(deps());
    const r = await reloader.reload('signal');
    expect(r.ok).toBe(false);
    expect(swapped).toEqual([]);
    expect(results).toEqual(['failure']);
    const line = logs.find((l) => l['msg'] === 'config reload failed');
    expect(line).toMatchObject({ level: 50, trigger: 'signal' });
    const paths = (line?.['issues'] as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['rollout.gate.window', 'routes[0].colour', 'routes[0].mode']);
  });

  it('refuses an empty file (a write caught halfway) and a missing one', async () => {
    writeFileSync(file, '  \n');
    reloader = createReloader(deps());
    expect(await reloader.reload('file')).toMatchObject({ ok: false, issues: [{ path: '(file)', message: expect.stringContaining('is empty') as unknown }] });
    rmSync(file);
    expect(await reloader.reload('file')).toMatchObject({ ok: false, issues: [{ message: expect.stringContaining('ENOENT') as unknown }] });
    expect(results).toEqual(['failure', 'failure']);
  });

  it('fails without swapping when prepare reports issues', async () => {
    writeFileSync(file, GOOD);
    reloader = createReloader(deps({ prepare: () => ({ ok: false, issues: [{ path: 'rollout.adminToken.file', message: 'cannot read' }] }) }));
    expect(await reloader.reload('api')).toEqual({ ok: false, issues: [{ path: 'rollout.adminToken.file', message: 'cannot read' }] });
    expect(swapped).toEqual([]);
  });

  it('runs reloads one at a time, in call order', async () => {
    writeFileSync(file, GOOD);
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    let n = 0;
    const load = async (p: string): Promise<ConfigResult<ConfigSnapshot>> => {
      const mine = ++n;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5 * (4 - mine)));
      order.push(mine);
      running--;
      return loadConfigForReload(p, mine);
    };
    reloader = createReloader(deps({ load }));
    const all = await Promise.all([reloader.reload('api'), reloader.reload('signal'), reloader.reload('file')]);
    expect(all.every((r) => r.ok)).toBe(true);
    expect(maxRunning).toBe(1);
    expect(order).toEqual([1, 2, 3]);
    expect(swapped.map((s) => s.loadedAt)).toEqual([1, 2, 3]);
  });

  it('reloads when the watched file changes, and stops watching on stop()', async () => {
    writeFileSync(file, GOOD);
    reloader = createReloader(deps({ baseline: await fileStamp(file) }));
    reloader.watch(50);
    await new Promise((r) => setTimeout(r, 150));
    expect(swapped).toEqual([]); // an unchanged file is not reloaded
    writeFileSync(file, `routes: [{ name: r3 }]`);
    await until(() => swapped.length > 0);
    expect(swapped.map((s) => s.routes.map((r) => r.name))).toEqual([['r3']]);
    expect(logs.find((l) => l['msg'] === 'config reloaded')).toMatchObject({ trigger: 'file' });
    reloader.stop();
    writeFileSync(file, `routes: [{ name: r4 }, { name: r5 }]`);
    await new Promise((r) => setTimeout(r, 300));
    expect(swapped.length).toBe(1);
  });

  it('sees a change made between the baseline and the first poll', async () => {
    writeFileSync(file, GOOD);
    const baseline = await fileStamp(file);
    writeFileSync(file, `routes: [{ name: r6 }]`);
    reloader = createReloader(deps({ baseline }));
    reloader.watch(50);
    await until(() => swapped.length > 0);
    expect(swapped[0]?.routes.map((r) => r.name)).toEqual(['r6']);
  });
});
