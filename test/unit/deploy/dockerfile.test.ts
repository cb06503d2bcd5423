import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../..');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'tie-dockerfile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    current += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith('\\')) continue;
    const m = /^(\S+)\s+([\s\S]*)$/.exec(current);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
    current = '';
  }
  return out;
}

const steps = instructions(DOCKERFILE);
const all = (keyword: string): string[] => steps.filter((s) => s.keyword === keyword).map((s) => s.args);
const finalStage = steps.slice(steps.map((s) => s.keyword).lastIndexOf('FROM'));

async function lint(file: string): Promise<{ code: number; output: string }> {
  const bin = join(ROOT, 'node_modules/dockerfile-utils/bin/dockerfile-utils');
  try {
    const r = await run(process.execPath, [bin, 'lint', file], { timeout: 30_000 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('Dockerfile', () => {
  it('passes dockerfile-utils lint with no findings', async () => {
    const r = await lint(join(ROOT, 'Dockerfile'));
    expect(r.output.trim()).toBe('');
    expect(r.code).toBe(0);
  });

  it('the lint fails on a broken Dockerfile', async () => {
    const file = join(scratch, 'Dockerfile.broken');
    writeFileSync(file, 'FROM node:24-bookworm-slim\nEXPOSE port\nHEALTHCHECK --interval=abc CMD true\n');
    const r = await lint(file);
    expect(r.code).not.toBe(0);
    expect(r.output).not.toBe('');
  });

  it('builds in stages on the official Node 24 slim image', () => {
    const froms = all('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const arg = all('ARG').find((a) => a.startsWith('NODE_IMAGE='));
    expect(arg).toMatch(/^NODE_IMAGE=node:24-(bookworm-)?slim$/);
    for (const f of froms) expect(f).toMatch(/^\$\{NODE_IMAGE\}( AS \w+)?$/);
  });

  it('installs production dependencies only, from the lockfile', () => {
    const install = all('RUN').find((r) => r.includes('npm ci'));
    expect(install).toMatch(/npm ci --omit=dev/);
    expect(all('RUN').join('\n')).not.toMatch(/npm (install|i) /);
  });

  it('runs the TypeScript entry point as a non-root user with the baked-in config, overridable', () => {
    const user = finalStage.filter((s) => s.keyword === 'USER').map((s) => s.args);
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(JSON.parse(all('ENTRYPOINT')[0]!)).toEqual(['node', 'src/main.ts']);
    expect(JSON.parse(all('CMD')[0]!)).toEqual(['--config.file=/etc/twilio-insights-exporter/config.yaml', '--web.config.file=/etc/twilio-insights-exporter/web.yaml']);
    expect(all('COPY')).toContain('config/container.yaml /etc/twilio-insights-exporter/config.yaml');
    expect(all('COPY')).toContain('config/web.yaml /etc/twilio-insights-exporter/web.yaml');
  });

  it('has a HEALTHCHECK running --healthcheck with the default command\u2019s config and web config, EXPOSE 9487 and OCI labels', () => {
    const health = all('HEALTHCHECK');
    expect(health).toHaveLength(1);
    const cmd = JSON.parse(/CMD (\[.*\])$/.exec(health[0]!)![1]!) as string[];
    expect(cmd.slice(0, 3)).toEqual(['node', 'src/main.ts', '--healthcheck']);
    // The check must find the listener the way the exporter configured it, TLS and basic auth included.
    for (const flag of JSON.parse(all('CMD')[0]!) as string[]) expect(cmd).toContain(flag);
    expect(cmd).toContain('--healthcheck.password-file=/etc/twilio-insights-exporter/healthcheck-password');
    expect(all('EXPOSE')).toEqual(['9487']);
    const labels = all('LABEL').join(' ');
    for (const key of ['title', 'description', 'version', 'licenses']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('copies only files that exist and that .dockerignore keeps in the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // Docker's rule: the last pattern matching a path or one of its parent directories decides.
    const kept = (path: string): boolean => {
      let keep = true;
      const parts = path.split('/');
      for (const pattern of ignore) {
        const negated = pattern.startsWith('!');
        const glob = new RegExp(`^${(negated ? pattern.slice(1) : pattern).replace(/\/$/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
        if (parts.some((_p, i) => glob.test(parts.slice(0, i + 1).join('/')))) keep = negated;
      }
      return keep;
    };
    const sources = finalStage
      .concat(steps.slice(0, steps.indexOf(finalStage[0]!)))
      .filter((s) => s.keyword === 'COPY' && !s.args.startsWith('--from'))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    const files = (p: string): string[] =>
      statSync(join(ROOT, p)).isDirectory() ? readdirSync(join(ROOT, p), { recursive: true, encoding: 'utf8' }).map((f) => `${p}/${f}`) : [p];
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      for (const f of files(source)) expect(kept(relative(ROOT, join(ROOT, f))), f).toBe(true);
    }
    for (const excluded of ['node_modules/.package-lock.json', '.git/HEAD', 'test/helpers/exporter.ts', '.cache/x']) expect(kept(excluded), excluded).toBe(false);
  });
});

describe('the image\u2019s runtime needs', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

  it('every package src/ imports at run time is a production dependency (npm ci --omit=dev keeps it)', () => {
    const used = new Set<string>();
    for (const file of readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(ROOT, 'src', file), 'utf8');
      // `import type` is erased by type stripping; every other import and export-from is loaded.
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+'([^'./][^']*)'|^\s*import\s+'([^'./][^']*)'|import\('([^'./][^']*)'\)/gm)) {
        const spec = (m[1] ?? m[2] ?? m[3])!;
        if (spec.startsWith('node:')) continue;
        used.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(used.size).toBeGreaterThan(3);
    for (const name of used) expect(Object.keys(pkg.dependencies), name).toContain(name);
  });

  it('no production package has an install script, so --ignore-scripts loses nothing', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages).filter(([name, p]) => name !== '' && !p.dev && p.hasInstallScript).map(([name]) => name);
    expect(withScripts).toEqual([]);
  });

  // The README's single-account recipe (TWILIO_ACCOUNT_SID and a token in the environment) must work with the image's
  // default command: the baked config leaves the account to the environment, and turns discovery on as env-only does.
  it('the default command\u2019s config and web config take the account from the environment, discovery on', { timeout: 60_000 }, async () => {
    const baked = /^(\S+) \/etc\/twilio-insights-exporter\/config\.yaml$/.exec(all('COPY').find((c) => c.endsWith(' /etc/twilio-insights-exporter/config.yaml')) ?? '')?.[1];
    expect(baked).toBeDefined();
    const args = [join(ROOT, 'src/main.ts'), `--config.file=${baked}`, '--web.config.file=config/web.yaml'];
    const env = { PATH: process.env['PATH'] ?? '', TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`, TWILIO_AUTH_TOKEN: 'token-for-the-check' };
    const check = await run(process.execPath, [...args, '--config.check'], { cwd: ROOT, env, timeout: 30_000 });
    expect(check.stderr).toBe('');
    expect(check.stdout).toContain('configuration is valid');
    const dump = await run(process.execPath, [...args, '--config.dump'], { cwd: ROOT, env, timeout: 30_000 });
    expect(dump.stdout).toContain(`account_sid: AC${'1'.repeat(32)}`);
    expect(dump.stdout).toMatch(/^discovery:\n\s+enabled: true$/m);
  });
});
