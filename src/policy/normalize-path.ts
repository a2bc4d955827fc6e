// Request path canonicalisation for route matching. Envoy hands over `:path` as sent (query
// included, nothing decoded), while the upstream may decode and resolve it; matching the raw form
// would let "/admin/../public" or "/a%2Fb" select a more permissive route. So we match on the most
// resolved reading: query and fragment cut, %XX of unreserved characters decoded, encoded "/" and
// "\" treated as separators, "//" merged, "." and ".." segments resolved (RFC 3986 §5.2.4).

const NEEDS_WORK = /[%\\]|\/\/|\/\.(?:\/|\.?(?:\/|$)|$)/;

/** Cuts query and fragment from a `:path` value. */
export function stripQuery(rawPath: string): string {
  let end = rawPath.length;
  const q = rawPath.indexOf('?');
  if (q !== -1) end = q;
  const h = rawPath.indexOf('#');
  if (h !== -1 && h < end) end = h;
  return end === rawPath.length ? rawPath : rawPath.slice(0, end);
}

/** Canonical form of a query-free path for matching; returns the input itself when already canonical. */
export function normalizePath(path: string): string {
  if (!NEEDS_WORK.test(path)) return path;
  const decoded = decodeForMatching(path);
  const out: string[] = [];
  const segments = decoded.split('/');
  // Dot segments are resolved first, with empty segments still counting as segments (RFC 3986
  // §5.2.4, and Envoy's normalize_path before merge_slashes): "/admin//../public" is "/admin/public",
  // never "/public". Empty segments are merged only afterwards.
  for (const seg of segments) {
    if (seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const kept = out.filter((seg) => seg !== '');
  // RFC 3986 §5.2.4 keeps a trailing "/" when the path ends in "/", "/." or "/..": "/a/b/.." is "/a/",
  // which is what the upstream will serve, not "/a".
  const last = segments[segments.length - 1];
  const trailing = (last === '' || last === '.' || last === '..') && kept.length > 0 ? '/' : '';
  return '/' + kept.join('/') + trailing;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function decodeForMatching(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x5c) {
      out += '/';
      continue;
    }
    if (c === 0x25 && i + 2 < path.length) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const v = hi * 16 + lo;
        if (v === 0x2f || v === 0x5c) {
          out += '/';
          i += 2;
          continue;
        }
        if (isUnreserved(v)) {
          out += String.fromCharCode(v);
          i += 2;
          continue;
        }
        // Other escapes stay encoded, upper-cased so "%3a" and "%3A" compare equal.
        out += '%' + path[i + 1]!.toUpperCase() + path[i + 2]!.toUpperCase();
        i += 2;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}
