// The usage examples of the package READMEs are code: each one is type-checked against the workspace
// sources and, unless marked typecheck-only, run with Node and expected to exit 0. See CONTRIBUTING.md.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXAMPLES_ROOT, README_DIRS, bundleExamples, collectDocExamples, collectExamples, extractExamples, runBundle, typecheckExamples, writeExampleModules,
} from './readme-examples.js';
import type { Example } from './readme-examples.js';

/** Per example; the longest (a CPU run, a protocol round trip) take well under a second. */
const RUN_TIMEOUT_MS = 15_000;

const examples = collectExamples();
let docExamples: Example[] = [];
let typeErrors: Map<Example, string[]>;
let bundles: Map<Example, string>;

// A directory of its own per run: several engineers may run this test at the same time.
fs.mkdirSync(EXAMPLES_ROOT, { recursive: true });
const workDir = fs.mkdtempSync(path.join(EXAMPLES_ROOT, 'run-'));
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

beforeAll(async () => {
  const docs = collectDocExamples();
  docExamples = docs.examples;
  const files = writeExampleModules([...examples, ...docExamples], workDir);
  typeErrors = typecheckExamples(files, docs.program);
  bundles = await bundleExamples(files, path.join(workDir, 'bundles'));
}, 60_000);

const title = (example: Example) => `${example.source}:${example.fenceLine}`;

describe('README usage examples', () => {
  it.each(README_DIRS.map((dir) => [dir]))('%s/README.md has a checked usage example', (dir) => {
    expect(examples.filter((e) => e.source === `${dir}/README.md`).length).toBeGreaterThan(0);
  });

  it.each(examples.map((e) => [title(e), e] as const))('%s type-checks', (_, example) => {
    expect(typeErrors.get(example)).toEqual([]);
  });

  const runnable = examples.filter((e) => e.mode === 'run');
  it.each(runnable.map((e) => [title(e), e] as const))('%s runs and exits 0', async (_, example) => {
    const result = await runBundle(bundles.get(example)!, RUN_TIMEOUT_MS);
    expect(result.timedOut, `still running after ${RUN_TIMEOUT_MS} ms:\n${result.output}`).toBe(false);
    expect(result.exitCode, result.output).toBe(0);
  }, RUN_TIMEOUT_MS + 5_000);
});

describe('TSDoc @example blocks of exported declarations', () => {
  // Collected in beforeAll (it needs a compiler program), so one test reports every failing block.
  it('type-check against the public API', () => {
    expect(docExamples.length).toBeGreaterThan(0);
    const failures = docExamples.flatMap((e) => typeErrors.get(e) ?? []);
    expect(failures).toEqual([]);
  });
});

describe('example extraction', () => {
  const readme = [
    '# pkg', '', '```ts', 'ignored();', '```',
    '<!-- example -->', '```ts', "import { a } from '@x/a';", 'a();', '```',
    '<!-- example: typecheck-only -->', '```ts', 'await boot();', '```',
  ].join('\n');

  it('takes only marked blocks, with their mode and README line', () => {
    const found = extractExamples(readme, 'packages/x/README.md');
    expect(found.map((e) => [e.fenceLine, e.mode, e.code])).toEqual([
      [7, 'run', "import { a } from '@x/a';\na();"],
      [12, 'typecheck-only', 'await boot();'],
    ]);
    expect(new Set(found.map((e) => e.moduleName)).size).toBe(2);
  });

  it('rejects a marker with an unknown mode or without a ts block after it', () => {
    expect(() => extractExamples('<!-- example: skip -->\n```ts\n```', 'R.md')).toThrow(/unknown example mode 'skip'/);
    expect(() => extractExamples('<!-- example -->\n\n```ts\n```', 'R.md')).toThrow(/directly followed/);
    expect(() => extractExamples('<!-- example -->\n```ts\nx();', 'R.md')).toThrow(/never closed/);
  });
});
