// The README's reason table and the catalog must list exactly the same codes with the same statuses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASONS, REASON_CODES } from '../../../src/authz/reasons.js';

function readmeReasonRows(): Map<string, { phase: string; http: number; grpc: number }> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.split('## Reason codes')[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, { phase: string; http: number; grpc: number }>();
  for (const line of section.split('\n')) {
    const m = /^\| `([A-Z0-9_]+)` \| (\w+) \| (\d+) \| (\d+) \|/.exec(line);
    if (m) rows.set(m[1]!, { phase: m[2]!, http: Number(m[3]), grpc: Number(m[4]) });
  }
  return rows;
}

describe('reason catalog', () => {
  it('is documented in README.md exactly, with the same phase and status codes', () => {
    const rows = readmeReasonRows();
    expect([...rows.keys()].sort()).toEqual([...REASON_CODES].sort());
    for (const code of REASON_CODES) {
      const info = REASONS[code];
      expect(rows.get(code), code).toEqual({ phase: info.phase, http: info.httpStatus, grpc: info.grpcCode });
    }
  });

  it('maps identity failures to 401/UNAUTHENTICATED, oversized requests to 431/PERMISSION_DENIED and other denials to 403/PERMISSION_DENIED', () => {
    for (const code of REASON_CODES) {
      const info = REASONS[code];
      if (code === 'ALLOWED') continue;
      if (info.phase === 'identity') expect([info.httpStatus, info.grpcCode], code).toEqual([401, 16]);
      else if (info.phase === 'request') expect([info.httpStatus, info.grpcCode], code).toEqual([431, 7]);
      else expect([info.httpStatus, info.grpcCode], code).toEqual([403, 7]);
    }
  });
});
