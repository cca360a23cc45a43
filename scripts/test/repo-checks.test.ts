import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { checkBrowserBundle } from '../check-browser-bundle.mjs';
// @ts-expect-error plain ESM script without type declarations
import { checkImports } from '../check-imports.mjs';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-checks-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function writeFile(relative: string, text: string): string {
  const file = path.join(scratch, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

describe('browser bundle check', () => {
  it('accepts code that uses only web-platform APIs', async () => {
    const entry = writeFile('clean/index.ts', 'export const bytes = new Uint8Array(4); export const now = () => performance.now();\n');
    expect(await checkBrowserBundle(entry)).toEqual([]);
  });

  it('fails when a node: import is added', async () => {
    const entry = writeFile('node-import/index.ts', "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
    const problems: string[] = await checkBrowserBundle(entry);
    expect(problems.join('\n')).toMatch(/Node built-in 'node:fs'/);
  });

  it('fails on a bare built-in name and on Node-only globals', async () => {
    const entry = writeFile('bare/index.ts', "import path from 'path';\nexport const j = path.join; export const argv = () => process.argv;\n");
    const problems: string[] = await checkBrowserBundle(entry);
    expect(problems.some((p) => p.includes("Node built-in 'path'"))).toBe(true);
    expect(problems.some((p) => p.includes('process.argv'))).toBe(true);
  });
});

describe('import direction check', () => {
  function fakeRepo(files: Record<string, string>) {
    const root = fs.mkdtempSync(path.join(scratch, 'repo-'));
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    }
    return root;
  }
  const manifest = (name: string, deps: string[] = []) =>
    JSON.stringify({ name, exports: { '.': './dist/index.js', './internal/*': null }, dependencies: Object.fromEntries(deps.map((d) => [d, 'workspace:*'])) });
  const rules = {
    '@x/low': { dir: 'low', core: true, mayImport: [] },
    '@x/high': { dir: 'high', core: false, mayImport: ['@x/low'] },
  };

  it('allows a declared downward import through the public entry', () => {
    const root = fakeRepo({
      'low/package.json': manifest('@x/low'),
      'low/src/index.ts': 'export const a = 1;\n',
      'high/package.json': manifest('@x/high', ['@x/low']),
      'high/src/index.ts': "import { a } from '@x/low';\nexport const b = a;\n",
    });
    expect(checkImports(root, rules)).toEqual([]);
  });

  it('rejects an upward import, an internal import and a relative escape', () => {
    const root = fakeRepo({
      'low/package.json': manifest('@x/low'),
      'low/src/index.ts': "import { b } from '@x/high';\nimport { c } from '../../high/src/c.js';\nexport const a = b + c;\n",
      'high/package.json': manifest('@x/high', ['@x/low']),
      'high/src/index.ts': "import { z } from '@x/low/internal/z';\nexport const b = z;\n",
    });
    const problems: string[] = checkImports(root, rules);
    expect(problems.some((p) => p.includes('@x/low may not import @x/high'))).toBe(true);
    expect(problems.some((p) => p.includes("relative import '../../high/src/c.js' leaves low"))).toBe(true);
    expect(problems.some((p) => p.includes("'@x/low/internal/z' is not a public entry"))).toBe(true);
  });

  it('accepts a sideways import that carries a written reason', () => {
    const root = fakeRepo({
      'low/package.json': manifest('@x/low', ['@x/high']),
      'low/src/index.ts': "// typevisor-allow-import: shares the frame type with the switch\nimport { b } from '@x/high';\nexport const a = b;\n",
      'high/package.json': manifest('@x/high', ['@x/low']),
      'high/src/index.ts': 'export const b = 1;\n',
    });
    expect(checkImports(root, rules)).toEqual([]);
  });
});
