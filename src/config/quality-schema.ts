import { z } from 'zod';
import { intRange, parsePublicBaseUrl } from './rules.ts';
import { EDGES } from '../samples/sample.ts';
import { DEFAULT_RULES, DEFAULT_WINDOW, ISSUES, THRESHOLD_FIELDS } from '../quality/thresholds.ts';
import type { ThresholdField, ThresholdRule, VerdictWindow } from '../quality/thresholds.ts';

/** Live quality verdicts: the thresholds and the "N of the last M samples" window. */
export interface QualityConfig {
  /** The window shared by every rule; default 3 of the last 5 samples, cleared at 0. */
  readonly window: VerdictWindow;
  /** Threshold rows; default Twilio's documented thresholds (an empty list in the file). */
  readonly rules: readonly ThresholdRule[];
}

/** Links from the status page. */
export interface GrafanaConfig {
  /** Grafana base URL for links to the call dashboard; default empty (no link). */
  readonly url: string;
}

const FIELDS = Object.keys(THRESHOLD_FIELDS) as [ThresholdField, ...ThresholdField[]];

const condition = z
  .strictObject({
    field: z.enum(FIELDS),
    above: z.number().optional(),
    below: z.number().optional(),
  })
  .refine((c) => (c.above === undefined) !== (c.below === undefined), { error: 'give exactly one of above and below' });

const rule = z.strictObject({
  issue: z.enum(ISSUES),
  edges: z.array(z.enum(EDGES)).min(1, { error: 'must name at least one edge' }),
  conditions: z.array(condition).min(1, { error: 'must have at least one condition' }),
  source: z.string().max(200).default('configured'),
});

/** The `quality` section: an empty `rules` list keeps Twilio's documented thresholds. */
export const qualitySchema = z
  .strictObject({
    window_samples: intRange(1, 32).default(DEFAULT_WINDOW.samples),
    raise_at: intRange(1, 32).default(DEFAULT_WINDOW.raiseAt),
    clear_at: intRange(0, 31).default(DEFAULT_WINDOW.clearAt),
    rules: z.array(rule).default([]),
  })
  .superRefine((q, ctx) => {
    if (q.raise_at > q.window_samples) ctx.addIssue({ code: 'custom', path: ['raise_at'], message: 'must not exceed window_samples' });
    if (q.clear_at >= q.raise_at) ctx.addIssue({ code: 'custom', path: ['clear_at'], message: 'must be less than raise_at' });
  })
  .transform(
    (q): QualityConfig => ({
      window: { samples: q.window_samples, raiseAt: q.raise_at, clearAt: q.clear_at },
      rules:
        q.rules.length === 0
          ? DEFAULT_RULES
          : q.rules.map((r) => ({
              issue: r.issue,
              edges: r.edges,
              conditions: r.conditions.map((c) => ({ field: c.field, ...(c.above !== undefined && { above: c.above }), ...(c.below !== undefined && { below: c.below }) })),
              source: r.source,
            })),
    }),
  );

/** The `grafana` section. */
export const grafanaSchema = z
  .strictObject({
    // The dashboard's path is appended to it, which a query or fragment would swallow.
    url: z
      .string()
      .transform((s, ctx) => {
        const base = s === '' ? '' : parsePublicBaseUrl(s);
        if (base === null) {
          ctx.addIssue({ code: 'custom', message: 'must be empty or an http(s) URL with no query, fragment or credentials' });
          return z.NEVER;
        }
        return base.replace(/\/+$/, '');
      })
      .default(''),
  })
  .transform((g): GrafanaConfig => ({ url: g.url }));
