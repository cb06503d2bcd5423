import { describe, expect, it } from 'vitest';
import { negotiateFormat } from '../../../src/http/app.ts';

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'text'],
    ['text/plain', 'text'],
    ['application/openmetrics-text; version=1.0.0', 'openmetrics'],
    // Prometheus' own Accept header.
    ['application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1', 'openmetrics'],
    ['application/openmetrics-text; q=0', 'text'],
    // Parameter names are case-insensitive (RFC 9110).
    ['application/openmetrics-text; Q=0', 'text'],
    ['Application/OpenMetrics-Text; Q=0.3', 'openmetrics'],
  ])('%s gets %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});
