import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// promtool comes with Debian's prometheus package (test/e2e/setup.sh installs it).
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const PROM_DIR = join(ROOT, 'config/prometheus');

interface Result {
  code: number;
  output: string;
}

async function promtool(args: string[], cwd = ROOT): Promise<Result> {
  try {
    const r = await run('promtool', args, { cwd, timeout: 30_000 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'tie-promtool-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('alert rules with promtool', () => {
  it('promtool check rules accepts alerts.yml', async () => {
    const r = await promtool(['check', 'rules', 'config/prometheus/alerts.yml']);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it('promtool test rules passes alerts.test.yml (each alert firing and not firing)', async () => {
    const r = await promtool(['test', 'rules', 'config/prometheus/alerts.test.yml']);
    expect(r.output).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('promtool check config accepts the example scrape config and the rules it loads', async () => {
    const r = await promtool(['check', 'config', 'config/prometheus/prometheus.yml']);
    expect(r.output).toMatch(/is valid prometheus config file syntax/);
    expect(r.code).toBe(0);
  });

  it('promtool check config accepts the compose stack\u2019s Prometheus config with the same rules', async () => {
    // In compose the rules are mounted beside the config; reproduce that layout.
    const dir = mkdtempSync(join(scratch, 'compose-'));
    copyFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), join(dir, 'prometheus.yml'));
    copyFileSync(join(PROM_DIR, 'alerts.yml'), join(dir, 'alerts.yml'));
    const r = await promtool(['check', 'config', 'prometheus.yml'], dir);
    expect(r.output).toMatch(/is valid prometheus config file syntax/);
    expect(r.code).toBe(0);
  });

  it('the rule tests fail when a rule changes (loss threshold 5% made 10%)', async () => {
    const dir = mkdtempSync(join(scratch, 'mutant-'));
    const rules = readFileSync(join(PROM_DIR, 'alerts.yml'), 'utf8');
    const mutant = rules.replace('twilio_call_packet_loss_ratio > 0.05', 'twilio_call_packet_loss_ratio > 0.1');
    expect(mutant).not.toBe(rules);
    writeFileSync(join(dir, 'alerts.yml'), mutant);
    copyFileSync(join(PROM_DIR, 'alerts.test.yml'), join(dir, 'alerts.test.yml'));
    const r = await promtool(['test', 'rules', 'alerts.test.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/FAILED[\s\S]*TwilioCallHighPacketLoss/);
  });
});
