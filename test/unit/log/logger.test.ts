// The log destination: bounded, and never a blocking pipe (a write to a full blocking pipe parks a
// libuv worker thread for good, and the process can then not even exit).
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogDestination } from '../../../src/log/logger.js';

/** The open flags of one of this process's descriptors (Linux /proc). */
function flagsOf(fd: number): number {
  const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (m === null) throw new Error(`no flags for fd ${fd}`);
  return parseInt(m[1]!, 8);
}

function fdOf(dest: unknown): number {
  return (dest as { fd: number }).fd;
}

describe('createLogDestination', () => {
  it('writes to a pipe through its own non-blocking descriptor, leaving the given one blocking', () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'log-dest-')), 'out.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    const dest = createLogDestination({ dest: writer, maxBufferBytes: 65_536 });
    try {
      expect(fdOf(dest)).not.toBe(writer);
      expect(flagsOf(fdOf(dest)) & constants.O_NONBLOCK).toBe(constants.O_NONBLOCK);
      expect(flagsOf(writer) & constants.O_NONBLOCK).toBe(0);
    } finally {
      dest.end();
      closeSync(writer);
      closeSync(reader);
    }
  });

  it('keeps the descriptor of a regular file as it is', () => {
    const file = openSync(join(mkdtempSync(join(tmpdir(), 'log-dest-')), 'out.log'), 'a');
    const dest = createLogDestination({ dest: file, maxBufferBytes: 65_536 });
    expect(fdOf(dest)).toBe(file);
    dest.end();
  });

  it('drops a line that does not fit in maxBufferBytes and says so with a drop event', () => {
    const file = openSync(join(mkdtempSync(join(tmpdir(), 'log-dest-')), 'out.log'), 'a');
    const dest = createLogDestination({ dest: file, maxBufferBytes: 100 });
    let dropped = 0;
    dest.on('drop', () => dropped++);
    dest.write(`${'a'.repeat(60)}\n`);
    dest.write(`${'b'.repeat(60)}\n`);
    expect(dropped).toBe(1);
    dest.end();
  });

  it('holds maxBufferBytes to exact UTF-8 bytes, not UTF-16 lengths, with multi-byte characters', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'log-dest-')), 'out.log');
    const file = openSync(path, 'a');
    const dest = createLogDestination({ dest: file, maxBufferBytes: 100 });
    const dropped: string[] = [];
    dest.on('drop', (line) => dropped.push(line as string));
    // 31 units / 61 bytes, then 20 units / 39 bytes: exactly 100 bytes, so both fit...
    expect(dest.write(`${'é'.repeat(30)}\n`)).toBe(true);
    expect(dest.write(`${'é'.repeat(19)}\n`)).toBe(true);
    expect((dest as unknown as { bufferedBytes: number }).bufferedBytes).toBe(100);
    // ...and one more byte does not, though 53 units would.
    expect(dest.write('\n')).toBe(false);
    expect(dropped).toEqual(['\n']);
    dest.end();
    closeSync(file);
    expect(readFileSync(path, 'utf8')).toBe(`${'é'.repeat(30)}\n${'é'.repeat(19)}\n`);
  });

  it("writes a turn's lines at once on flush and leaves the event loop nothing pending for them", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'log-dest-')), 'out.log');
    const file = openSync(path, 'a');
    const dest = createLogDestination({ dest: file, maxBufferBytes: 65_536 });
    const immediates = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
    try {
      const before = immediates();
      dest.write('{"n":1}\n');
      dest.write('{"n":2}\n');
      // Unflushed, the lines wait for the end of the turn: one planned write.
      expect(readFileSync(path, 'utf8')).toBe('');
      expect(immediates()).toBe(before + 1);
      dest.flush();
      // Flushed: written now, and the planned write is gone (it would only cost the loop a round).
      expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
      expect(immediates()).toBe(before);
      dest.write('{"n":3}\n');
      await new Promise((r) => setImmediate(r));
      expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    } finally {
      dest.end();
      closeSync(file);
    }
  });

  it('loses and reorders nothing when a full pipe takes a turn\'s text only in part, multi-byte characters included', async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'log-dest-')), 'out.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, 'w');
    const dest = createLogDestination({ dest: writer, maxBufferBytes: 4 * 1024 * 1024 });
    const lines = Array.from({ length: 3000 }, (_, i) => `{"n":${i},"t":"ordérs ✓ ${'x'.repeat(i % 97)}"}\n`);
    const chunks: Buffer[] = [];
    const drain = (): void => {
      const buf = Buffer.alloc(65_536);
      for (;;) {
        let n = 0;
        try {
          n = readSync(reader, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
          throw e;
        }
        if (n === 0) return;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
    };
    try {
      // Several turns of lines, more than a pipe holds (64 KiB): writes are cut mid-character.
      for (let turn = 0; turn < 6; turn++) {
        for (const line of lines.slice(turn * 500, (turn + 1) * 500)) expect(dest.write(line)).toBe(true);
        await new Promise((r) => setImmediate(r));
      }
      const want = Buffer.from(lines.join(''));
      for (let i = 0; i < 200 && Buffer.concat(chunks).length < want.length; i++) {
        drain();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(Buffer.concat(chunks).equals(want)).toBe(true);
    } finally {
      dest.end();
      closeSync(writer);
      closeSync(reader);
    }
  });
});
