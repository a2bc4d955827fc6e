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

/** Reads and compiles a config file; an unreadable file is reported as an issue, not thrown. */
export async function loadConfigFile(path: string, now: number = Date.now()): Promise<ConfigResult<ConfigSnapshot>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, issues: [{ path: '(file)', message: `cannot read ${path}: ${code}` }] };
  }
  return buildSnapshot(text, path, now);
}
