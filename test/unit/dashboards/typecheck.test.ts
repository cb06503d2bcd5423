import { beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_FILES, loadDashboard } from './promql.ts';
import type { DashboardJson, PanelJson } from './promql.ts';
import { dashboardModule, typeCheckDashboards } from './typecheck.ts';
import type { TypeCheckResult } from './typecheck.ts';

// One tsc run checks both dashboards and three copies with one defect each, so the check is seen to fail:
// tsc reports an excess property only when the object has no other error, hence one defect per copy.
function brokenCopies(): Record<string, string> {
  const fleet = (): DashboardJson => structuredClone(loadDashboard('twilio-voice-fleet.json'));
  const firstStat = (d: DashboardJson): PanelJson => d.panels.find((p) => p.type === 'stat')!;
  const unknownKey = fleet();
  (unknownKey as Record<string, unknown>)['titel'] = 'typo';
  const badEnum = fleet();
  (firstStat(badEnum).fieldConfig!.defaults['thresholds'] as { mode: string }).mode = 'absolut';
  const badOption = fleet();
  firstStat(badOption).options!['colorMode'] = 'rainbow';
  return {
    'broken-key': dashboardModule(unknownKey),
    'broken-enum': dashboardModule(badEnum),
    'broken-option': dashboardModule(badOption),
  };
}

let result: TypeCheckResult;

beforeAll(async () => {
  const modules: Record<string, string> = brokenCopies();
  for (const file of DASHBOARD_FILES) modules[file.replace(/\.json$/, '')] = dashboardModule(loadDashboard(file));
  result = await typeCheckDashboards(modules);
}, 60_000);

describe('dashboards type-check as @grafana/schema Dashboard (tsc --strict)', () => {
  for (const file of DASHBOARD_FILES) {
    it(`${file} and its panel options match Grafana's types`, () => {
      expect(result.errors.get(`${file.replace(/\.json$/, '')}.ts`)).toEqual([]);
    });
  }

  it.each([
    ['broken-key', /'"titel"' does not exist/],
    ['broken-enum', /"absolut"/],
    ['broken-option', /"rainbow"/],
  ])('rejects a copy with one defect (%s)', (name, message) => {
    const errors = result.errors.get(`${name}.ts`) ?? [];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });
});
