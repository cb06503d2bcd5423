import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, allPanels } from './promql.ts';
import type { DashboardJson } from './promql.ts';

const run = promisify(execFile);

// Grafana's TypeScript types use string enums (ThresholdsMode.Absolute); a dashboard's JSON holds their
// values ("absolute"). Json<T> is T with each string enum replaced by the union of its values, everything
// else unchanged, so the JSON itself is checked against the schema, excess properties included.
const PRELUDE = `import type { Dashboard } from '@grafana/schema';
import type { Options as TimeseriesOptions, FieldConfig as TimeseriesFieldConfig } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TableOptions, FieldConfig as TableFieldConfig } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type { Options as HeatmapOptions, FieldConfig as HeatmapFieldConfig } from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
type Json<T> = T extends string ? \`\${T}\` : T extends readonly (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
`;

// Panel plugin options and custom field config types, per core panel type this project uses.
const PANEL_TYPES: Readonly<Record<string, { options: string; custom?: string }>> = {
  timeseries: { options: 'TimeseriesOptions', custom: 'TimeseriesFieldConfig' },
  stat: { options: 'StatOptions' },
  table: { options: 'TableOptions', custom: 'TableFieldConfig' },
  heatmap: { options: 'HeatmapOptions', custom: 'HeatmapFieldConfig' },
};

/** The panel types whose options the type check knows. */
export const CHECKED_PANEL_TYPES: readonly string[] = Object.keys(PANEL_TYPES);

/** A TypeScript module that compiles only if the dashboard and each panel's options match Grafana's types. */
export function dashboardModule(d: DashboardJson): string {
  const lines = [PRELUDE, `export const dashboard: Json<Dashboard> = ${JSON.stringify(d, null, 2)};`];
  for (const p of allPanels(d)) {
    const types = PANEL_TYPES[p.type];
    if (!types) {
      lines.push(`// panel ${p.id} (${p.type}) has no known options type`, `export const unknownPanelType${p.id}: never = ${JSON.stringify(p.type)};`);
      continue;
    }
    lines.push(`export const panel${p.id}Options: Json<${types.options}> = ${JSON.stringify(p.options ?? {})};`);
    const custom = p.fieldConfig?.defaults['custom'];
    if (types.custom && custom !== undefined) {
      lines.push(`export const panel${p.id}Custom: Json<${types.custom}> = ${JSON.stringify(custom)};`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Result of one type check: diagnostics per generated file (relative to the check directory). */
export interface TypeCheckResult {
  errors: Map<string, string[]>;
  output: string;
}

/**
 * Writes one module per dashboard into a fresh directory under .cache/dash-check (inside the repo, so
 * node_modules resolves) and runs `tsc --noEmit --strict` on them all at once.
 */
export async function typeCheckDashboards(modules: Readonly<Record<string, string>>): Promise<TypeCheckResult> {
  const base = join(ROOT, '.cache/dash-check');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'run-'));
  try {
    const files = Object.entries(modules).map(([name, source]) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, source);
      return `${name}.ts`;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2024',
          lib: ['es2024'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          types: [],
          skipLibCheck: true,
          noErrorTruncation: false,
        },
        files,
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    let output = '';
    try {
      const r = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: dir, timeout: 60_000 });
      output = r.stdout + r.stderr;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number | string };
      output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
      // tsc exits 2 with diagnostics; anything else (crash, timeout) is a failure of the check itself.
      if (e.code !== 2 && e.code !== 1) throw new Error(`tsc failed to run (${String(e.code)}): ${output}`, { cause: err });
    }
    const errors = new Map<string, string[]>(files.map((f) => [f, []]));
    for (const line of output.split('\n')) {
      const m = /^(.+?\.ts)\(\d+,\d+\): error /.exec(line);
      if (!m) {
        if (/error TS/.test(line)) throw new Error(`tsc reported a problem outside the generated files: ${line}`);
        continue;
      }
      const file = relative(dir, join(dir, m[1]!));
      (errors.get(file) ?? errors.set(file, []).get(file)!).push(line);
    }
    return { errors, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
