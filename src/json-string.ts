// JSON text of a string, quickly: shared by the decision line and the deny body, both on the Check path.

/**
 * A string as JSON. Text with nothing to escape (no quote, backslash, control character or
 * surrogate: decision ids, SPIFFE IDs, route names, most paths) is quoted as it is, which is
 * several times cheaper than JSON.stringify; anything else goes through JSON.stringify.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}
