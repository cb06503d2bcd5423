import { EDGES } from '../samples/sample.ts';
import type { Edge } from '../samples/sample.ts';
import { ISSUES } from './thresholds.ts';
import type { Issue } from './thresholds.ts';
import { ISSUE_BIT } from './verdicts.ts';
import type { CompiledRules } from './verdicts.ts';

/** The fleet verdict counts of one (issue, edge, account) label set. */
export interface IssueCellView {
  readonly issue: Issue;
  readonly edge: Edge;
  readonly accountSid: string;
  /** When the cell was created, epoch ms: the start of its cumulative count. */
  readonly startMs: number;
  /** Calls raising the issue on the edge now. */
  readonly raising: number;
  /** Calls that raised the issue on the edge at least once, each counted once. */
  readonly raisedTotal: number;
}

interface Cell extends IssueCellView {
  raising: number;
  raisedTotal: number;
}

/**
 * Calls raising each issue per edge and account, and calls that ever did. The label sets an account can have
 * (each issue on each edge a rule judges it on) exist from the start at 0, so a counter's first increase is seen.
 */
export class FleetIssues {
  // By account, then `edge` index * ISSUES.length + issue index: a change looks nothing up by string.
  readonly #cells = new Map<string, Array<Cell | undefined>>();
  readonly #judged: ReadonlyArray<readonly [Edge, Issue]>;
  readonly #now: () => number;

  /** Cells for each account of `accountSids` and each (edge, issue) that `rules` can raise. */
  constructor(rules: CompiledRules, accountSids: readonly string[], now: () => number) {
    this.#now = now;
    const judged: Array<[Edge, Issue]> = [];
    for (const [edge, list] of rules.byEdge) {
      for (const issue of ISSUES) if (list.some((r) => r.bit === ISSUE_BIT[issue])) judged.push([edge, issue]);
    }
    this.#judged = judged;
    for (const sid of accountSids) this.#account(sid);
  }

  #account(accountSid: string): Array<Cell | undefined> {
    let cells = this.#cells.get(accountSid);
    if (!cells) {
      this.#cells.set(accountSid, (cells = []));
      for (const [edge, issue] of this.#judged) this.#cell(cells, accountSid, edge, issue);
    }
    return cells;
  }

  #cell(cells: Array<Cell | undefined>, accountSid: string, edge: Edge, issue: Issue): Cell {
    const i = EDGES.indexOf(edge) * ISSUES.length + ISSUES.indexOf(issue);
    let cell = cells[i];
    if (!cell) cells[i] = cell = { issue, edge, accountSid, startMs: this.#now(), raising: 0, raisedTotal: 0 };
    return cell;
  }

  /** A call's issues on one edge went from mask `before` to `after`; `first` holds the bits it never raised there before. */
  change(accountSid: string, edge: Edge, before: number, after: number, first: number): void {
    const changed = before ^ after;
    const cells = this.#account(accountSid);
    for (const issue of ISSUES) {
      const bit = ISSUE_BIT[issue];
      if ((changed & bit) === 0) continue;
      const cell = this.#cell(cells, accountSid, edge, issue);
      const up = (after & bit) !== 0;
      cell.raising += up ? 1 : -1;
      if (up && (first & bit) !== 0) cell.raisedTotal++;
    }
  }

  /** Every cell, by account, edge and issue. */
  *cells(): Generator<IssueCellView> {
    for (const cells of this.#cells.values()) {
      for (const cell of cells) if (cell) yield cell;
    }
  }
}
