import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The boundary rules `npm run lint` enforces, run against small trees that break them on purpose:
// a rule that never fires would pass CI while the real tree drifts.
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'node_modules/.bin/depcruise');
const config = join(root, '.dependency-cruiser.cjs');
const dirs: string[] = [];

async function cruise(files: Record<string, string>): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'boundaries-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowImportingTsExtensions: true, noEmit: true, module: 'nodenext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  try {
    const r = await run(bin, ['src', '--config', config, '--output-type', 'err'], { cwd: dir });
    return { code: 0, out: r.stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('import boundaries', () => {
  it('passes a tree whose imports follow the data flow', async () => {
    const r = await cruise({
      'src/samples/sample.ts': 'export const x = 1;\n',
      'src/store/store.ts': "import { x } from '../samples/sample.ts';\nexport const y = x;\n",
      'src/poller/poller.ts': "import { y } from '../store/store.ts';\nexport const z = y;\n",
    });
    expect(r.out).toContain('no dependency violations');
    expect(r.code).toBe(0);
  }, 30_000);

  it('fails a wrong-way import from the store to the poller', async () => {
    const r = await cruise({
      'src/poller/poller.ts': 'export const z = 1;\n',
      'src/store/store.ts': "import { z } from '../poller/poller.ts';\nexport const y = z;\n",
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('stage-store: src/store/store.ts → src/poller/poller.ts');
  }, 30_000);

  it('fails an import cycle inside one stage', async () => {
    const r = await cruise({
      'src/metrics/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'src/metrics/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('no-circular');
  }, 30_000);

  it('fails a stage importing the composition root', async () => {
    const r = await cruise({
      'src/exporter.ts': 'export const root = 1;\n',
      'src/http/app.ts': "import { root } from '../exporter.ts';\nexport const app = root;\n",
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('no-root-from-stages');
  }, 30_000);

  it('fails the simulator importing the exporter beyond the sample vocabulary', async () => {
    const r = await cruise({
      'src/samples/parse.ts': 'export const parse = 1;\n',
      'src/simulator/sim.ts': "import { parse } from '../samples/parse.ts';\nexport const s = parse;\n",
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('simulator-stands-alone');
  }, 30_000);
});
