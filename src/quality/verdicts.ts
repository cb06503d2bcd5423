import type { Edge, SampleValues } from '../samples/sample.ts';
import { ISSUES, THRESHOLD_FIELDS } from './thresholds.ts';
import type { Issue, ThresholdRule, VerdictWindow } from './thresholds.ts';

/** Bit of each issue in an issue mask. */
export const ISSUE_BIT: Readonly<Record<Issue, number>> = Object.fromEntries(ISSUES.map((issue, i) => [issue, 1 << i])) as Record<Issue, number>;

/** The issues set in a mask, in ISSUES order. */
export function issuesOf(mask: number): Issue[] {
  return ISSUES.filter((issue) => (mask & ISSUE_BIT[issue]) !== 0);
}

interface CompiledRule {
  readonly bit: number;
  /** Each condition's field, as its index in FIELD_ORDER. */
  readonly fields: readonly number[];
  /** The fields the rule needs, as a mask of FIELD_ORDER bits: a sample lacking one is not judged. */
  readonly needs: number;
  readonly above: readonly number[];
  readonly below: readonly number[];
}

// The sample fields a threshold can test, read once per sample by name (a keyed read per condition was a
// megamorphic load, most of the tracker's cost per sample), in THRESHOLD_FIELDS order: readFields follows it.
const FIELD_ORDER: ReadonlyArray<keyof SampleValues> = Object.values(THRESHOLD_FIELDS);
const FIELD_VALUES = new Float64Array(FIELD_ORDER.length);

// Reads the testable fields of a sample into FIELD_VALUES; returns the mask of those present. A field added to
// THRESHOLD_FIELDS is read here too (a test checks each one is read under its own name).
function readFields(v: Readonly<SampleValues>): number {
  let present = 0;
  present |= put(0, v.mos);
  present |= put(1, v.rttSeconds);
  present |= put(2, v.jitterSeconds);
  present |= put(3, v.jitterAvgSeconds);
  present |= put(4, v.jitterMaxSeconds);
  present |= put(5, v.packetLossRatio);
  return present;
}

function put(i: number, x: number | undefined): number {
  if (x === undefined) return 0;
  FIELD_VALUES[i] = x;
  return 1 << i;
}

/** Rules compiled per edge, ready to evaluate samples without allocating. */
export interface CompiledRules {
  readonly window: VerdictWindow;
  readonly byEdge: ReadonlyMap<Edge, readonly CompiledRule[]>;
}

/** Compiles rule rows (from the config) once. */
export function compileRules(rules: readonly ThresholdRule[], window: VerdictWindow): CompiledRules {
  const byEdge = new Map<Edge, CompiledRule[]>();
  for (const rule of rules) {
    const fields = rule.conditions.map((c) => FIELD_ORDER.indexOf(THRESHOLD_FIELDS[c.field]));
    const compiled: CompiledRule = {
      bit: ISSUE_BIT[rule.issue],
      fields,
      needs: fields.reduce((m, i) => m | (1 << i), 0),
      above: rule.conditions.map((c) => c.above ?? Number.POSITIVE_INFINITY),
      below: rule.conditions.map((c) => c.below ?? Number.NEGATIVE_INFINITY),
    };
    for (const edge of rule.edges) {
      let list = byEdge.get(edge);
      if (!list) byEdge.set(edge, (list = []));
      list.push(compiled);
    }
  }
  return { window, byEdge };
}

// 1 bad, 0 good, -1 not judged (a field the rule tests is missing from the sample), from FIELD_VALUES.
function judge(rule: CompiledRule, present: number): -1 | 0 | 1 {
  if ((present & rule.needs) !== rule.needs) return -1;
  let bad = true;
  for (let i = 0; i < rule.fields.length; i++) {
    const v = FIELD_VALUES[rule.fields[i]!]!;
    if (!(v > rule.above[i]! || v < rule.below[i]!)) bad = false;
  }
  return bad ? 1 : 0;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}

/**
 * The live verdicts of one stream: for each rule, the last `window.samples` judgements as a bit ring; an issue
 * is raised when `raiseAt` of them are bad and cleared when at most `clearAt` are. Rules sharing an issue
 * (none by default on one edge) raise it when any of them does.
 */
export class StreamVerdicts {
  readonly #rules: readonly CompiledRule[];
  readonly #window: VerdictWindow;
  readonly #mask: number;
  readonly #bits: Uint32Array;
  readonly #raisedByRule: Uint8Array;
  #raised = 0;

  /** Starts with nothing raised; `edge` picks the rules that apply. */
  constructor(rules: CompiledRules, edge: Edge) {
    this.#rules = rules.byEdge.get(edge) ?? [];
    this.#window = rules.window;
    this.#mask = rules.window.samples >= 32 ? 0xffffffff : (1 << rules.window.samples) - 1;
    this.#bits = new Uint32Array(this.#rules.length);
    this.#raisedByRule = new Uint8Array(this.#rules.length);
  }

  /** Issues raised now, as a mask of ISSUE_BIT. */
  get raised(): number {
    return this.#raised;
  }

  /** Whether any rule applies to this stream's edge. */
  get judged(): boolean {
    return this.#rules.length > 0;
  }

  /** Judges the next sample (in timestamp order) and returns the issues raised after it, as a mask. */
  push(values: Readonly<SampleValues>): number {
    let raised = 0;
    const present = readFields(values);
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i]!;
      const verdict = judge(rule, present);
      if (verdict !== -1) {
        const bits = ((this.#bits[i]! << 1) | verdict) & this.#mask;
        this.#bits[i] = bits;
        const bad = popcount(bits);
        if (this.#raisedByRule[i] === 0 && bad >= this.#window.raiseAt) this.#raisedByRule[i] = 1;
        else if (this.#raisedByRule[i] === 1 && bad <= this.#window.clearAt) this.#raisedByRule[i] = 0;
      }
      if (this.#raisedByRule[i] === 1) raised |= rule.bit;
    }
    this.#raised = raised;
    return raised;
  }
}
