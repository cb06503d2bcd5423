/**
 * The credentials of an `Authorization` header in `scheme` (`Basic`, `Bearer`), or undefined when it names another
 * scheme or none. The scheme is case-insensitive (RFC 9110 §11.1) and spaces separate it from the credentials.
 */
export function credentialsFor(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined) return undefined;
  const m = /^([^ ]+) +(.*)$/s.exec(header);
  return m !== null && m[1]!.toLowerCase() === scheme.toLowerCase() ? m[2] : undefined;
}
