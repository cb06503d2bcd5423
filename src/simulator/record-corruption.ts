import type { CorruptionKind } from './faults.ts';
import type { MetricRecord } from './metric-record.ts';
import type { RandomSource } from './seeded-random.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The filled edge object of a (cloned) record. */
function edgeObject(record: JsonObject): JsonObject | undefined {
  const edge = record.edge;
  if (typeof edge !== 'string') return undefined;
  const data = record[edge];
  return isObject(data) ? data : undefined;
}

function pick<T>(items: readonly T[], random: RandomSource): T | undefined {
  return items[Math.floor(random() * items.length)];
}

/** The numeric leaves of an object, as [parent, key] pairs. */
function numericLeaves(value: JsonObject, out: Array<[JsonObject, string]> = []): Array<[JsonObject, string]> {
  for (const [key, child] of Object.entries(value)) {
    if (typeof child === 'number') out.push([value, key]);
    else if (isObject(child)) numericLeaves(child, out);
  }
  return out;
}

/**
 * A copy of a metric record with one field broken in the chosen way: a wrong JSON type, a NaN-like
 * string, a negative cumulative counter, an edge outside the enum, or an unparseable timestamp.
 */
export function corruptRecord(record: MetricRecord, kind: CorruptionKind, random: RandomSource): Json {
  const copy = structuredClone(record) as unknown as JsonObject;
  const data = edgeObject(copy);
  switch (kind) {
    case 'wrong_type': {
      const leaf = data === undefined ? undefined : pick(numericLeaves(data), random);
      if (leaf === undefined) copy.direction = 42;
      else {
        const [parent, key] = leaf;
        const original = parent[key];
        parent[key] = random() < 0.5 ? { value: typeof original === 'number' ? String(original) : null } : [original ?? null];
      }
      break;
    }
    case 'nan_string': {
      const leaf = data === undefined ? undefined : pick(numericLeaves(data), random);
      if (leaf !== undefined) leaf[0][leaf[1]] = pick(['NaN', 'Infinity', '-', 'n/a'], random) ?? 'NaN';
      break;
    }
    case 'negative_counter': {
      const cumulative = data?.cumulative;
      const counters = isObject(cumulative) ? numericLeaves(cumulative).filter(([, key]) => key.startsWith('packets') || key.startsWith('bytes')) : [];
      const leaf = pick(counters, random);
      if (leaf !== undefined) leaf[0][leaf[1]] = -1 - Math.floor(random() * 1000);
      break;
    }
    case 'unknown_edge': {
      const edge = typeof copy.edge === 'string' ? copy.edge : 'sdk_edge';
      copy.mystery_edge = copy[edge] ?? null;
      copy[edge] = null;
      copy.edge = 'mystery_edge';
      break;
    }
    case 'bad_timestamp':
      copy.timestamp = pick(['not-a-timestamp', '2026-13-45T99:99:99Z', ''], random) ?? '';
      break;
  }
  return copy;
}
