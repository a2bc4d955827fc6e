// README's config reference must name every key the schema fills with a default, with that default.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config/parse.js';

function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function referenceRows(): Map<string, string> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.split('## Config reference')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `([A-Za-z.[\]]+)` \| `([^`]*)`/.exec(line);
    if (m) rows.set(m[1]!, m[2]!);
  }
  return rows;
}

describe('README config reference', () => {
  it('lists every defaulted key of the schema with its default value', () => {
    const parsed = parseConfigText('');
    if (!parsed.ok) throw new Error('the empty config must be valid');
    const rows = referenceRows();
    for (const [path, value] of leaves(parsed.value, '', new Map())) {
      // A list of objects is documented as `key[]`.
      const key = rows.has(path) ? path : `${path}[]`;
      expect(rows.has(key), `${path} is not in the config reference`).toBe(true);
      const shown = Array.isArray(value) ? (value.length === 0 ? '[]' : `[${value.join(', ')}]`) : String(value);
      expect(rows.get(key), path).toBe(shown);
    }
  });
});
