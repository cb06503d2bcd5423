/** Sort order of a list: `asc` (oldest first, the inferred real behaviour) or `desc` (newest first). */
export type SortOrder = 'asc' | 'desc';

/**
 * A position in a list, by sort key: `after` continues past the key in response order, `before`
 * reads the page that precedes the key in response order. Keys are integers.
 */
export interface Cursor {
  /** Which side of the key to read. */
  readonly kind: 'after' | 'before';
  /** Sort key of a record (it need not exist any more). */
  readonly key: number;
}

/** The records of one page, as positions into the key-ascending list, in response order. */
export interface PageSelection {
  /** Positions (0-based, into the list sorted by ascending key), in the order to return them. */
  readonly positions: number[];
  /** Whether records follow the page in response order. */
  readonly hasNext: boolean;
  /** Whether records precede the page in response order. */
  readonly hasPrevious: boolean;
}

/** The first position in `[0, length)` whose key satisfies `test` (keys ascending, `test` monotone). */
function lowerBound(length: number, keyAt: (position: number) => number, test: (key: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (test(keyAt(middle))) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * Chooses one page of a list whose records are addressed by strictly ascending integer keys.
 * Because a cursor is a key and not an offset, records appended at either end between two
 * requests never make a walk skip or repeat a record, in either sort order.
 */
export function selectPage(
  length: number,
  keyAt: (position: number) => number,
  order: SortOrder,
  cursor: Cursor | undefined,
  size: number,
): PageSelection {
  let low: number;
  let high: number;
  if (order === 'asc') {
    if (cursor === undefined) {
      low = 0;
      high = Math.min(size, length);
    } else if (cursor.kind === 'after') {
      low = lowerBound(length, keyAt, (key) => key > cursor.key);
      high = Math.min(low + size, length);
    } else {
      high = lowerBound(length, keyAt, (key) => key >= cursor.key);
      low = Math.max(0, high - size);
    }
    const positions: number[] = [];
    for (let p = low; p < high; p++) positions.push(p);
    return { positions, hasNext: high < length, hasPrevious: low > 0 };
  }
  if (cursor === undefined) {
    high = length;
    low = Math.max(0, high - size);
  } else if (cursor.kind === 'after') {
    high = lowerBound(length, keyAt, (key) => key >= cursor.key);
    low = Math.max(0, high - size);
  } else {
    low = lowerBound(length, keyAt, (key) => key > cursor.key);
    high = Math.min(length, low + size);
  }
  const positions: number[] = [];
  for (let p = high - 1; p >= low; p--) positions.push(p);
  return { positions, hasNext: low > 0, hasPrevious: high < length };
}

/** The cursors that lead to the next and previous pages of a selection (undefined where none). */
export function neighbourCursors(
  selection: PageSelection,
  keyAt: (position: number) => number,
  order: SortOrder,
  requested: Cursor | undefined,
): { next: Cursor | undefined; previous: Cursor | undefined } {
  const first = selection.positions[0];
  const last = selection.positions[selection.positions.length - 1];
  const next = selection.hasNext && last !== undefined ? { kind: 'after' as const, key: keyAt(last) } : undefined;
  let previous: Cursor | undefined;
  if (requested !== undefined && selection.hasPrevious) {
    if (first !== undefined) {
      previous = { kind: 'before', key: keyAt(first) };
    } else if (requested.kind === 'after') {
      // An empty page after key K: the previous page is the one that ends with K itself.
      previous = { kind: 'before', key: order === 'asc' ? requested.key + 1 : requested.key - 1 };
    }
  }
  return { next, previous };
}
