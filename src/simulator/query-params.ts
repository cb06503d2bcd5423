import { ApiError } from './twilio-error.ts';
import type { SimulatorVariant } from './variant.ts';

/** Largest page the API serves (spec: PageSize maximum 1000). */
export const MAX_PAGE_SIZE = 1000;
/** Page size when none is given (spec: default 50). */
export const DEFAULT_PAGE_SIZE = 50;

/** An optional enum query parameter; a value outside `allowed` is 400 with the variant's code. */
export function enumParam<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
  variant: SimulatorVariant,
): T | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ApiError(
    400,
    variant.invalidParamCode,
    `Invalid query parameter ${name}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`,
  );
}

/** `PageSize`: an integer 1..1000, default 50; out of range is 400, or clamped in `clamp` mode. */
export function pageSizeParam(query: URLSearchParams, variant: SimulatorVariant): number {
  const raw = query.get('PageSize');
  if (raw === null) return DEFAULT_PAGE_SIZE;
  const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isSafeInteger(value)) {
    if (value >= 1 && value <= MAX_PAGE_SIZE) return value;
    if (variant.pageSizeMode === 'clamp') return Math.min(MAX_PAGE_SIZE, Math.max(1, value));
  }
  throw new ApiError(
    400,
    variant.invalidParamCode,
    `Invalid query parameter PageSize: ${JSON.stringify(raw)} must be an integer from 1 to ${MAX_PAGE_SIZE}`,
  );
}

/** `Page`: an integer >= 0, default 0 (client state only: the token decides the position). */
export function pageParam(query: URLSearchParams, variant: SimulatorVariant): number {
  const raw = query.get('Page');
  if (raw === null) return 0;
  if (/^\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  throw new ApiError(
    400,
    variant.invalidParamCode,
    `Invalid query parameter Page: ${JSON.stringify(raw)} must be an integer >= 0`,
  );
}
