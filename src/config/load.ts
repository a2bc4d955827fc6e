// Reads a config file and turns it into a snapshot, or into the list of everything wrong with it.
import { readFile } from 'node:fs/promises';
import { compileConfig, type ConfigSnapshot } from './compile.js';
import type { ConfigResult } from './issues.js';
import { parseConfigText } from './parse.js';

/** Parses, validates and compiles config text. Pure apart from the clock value passed in. */
export function buildSnapshot(text: string, source: string, now: number): ConfigResult<ConfigSnapshot> {
  const parsed = parseConfigText(text);
  if (!parsed.ok) return parsed;
  return compileConfig(parsed.value, source, now);
}

/** Reads a config file's text; an unreadable file is reported as an issue, not thrown. */
export async function readConfigText(path: string): Promise<ConfigResult<string>> {
  try {
    return { ok: true, value: await readFile(path, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, issues: [{ path: '(file)', message: `cannot read ${path}: ${code}` }] };
  }
}

/** Reads and compiles a config file; an unreadable file is reported as an issue, not thrown. */
export async function loadConfigFile(path: string, now: number = Date.now()): Promise<ConfigResult<ConfigSnapshot>> {
  const text = await readConfigText(path);
  return text.ok ? buildSnapshot(text.value, path, now) : text;
}
