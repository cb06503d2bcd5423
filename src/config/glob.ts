/** Whether a metric name matches a pattern where `*` stands for any run of characters. */
export function globMatch(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** Whether a metric passes allow (`include`, empty = all) and deny (`exclude`) lists. */
export function metricAllowed(name: string, include: readonly string[], exclude: readonly string[]): boolean {
  if (include.length > 0 && !include.some((p) => globMatch(p, name))) return false;
  return !exclude.some((p) => globMatch(p, name));
}
