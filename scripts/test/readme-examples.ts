// Extracts the usage examples of the package READMEs, type-checks them against the workspace sources
// in one TypeScript program, and bundles and runs the runnable ones with Node under a time limit.
// The convention (CONTRIBUTING.md): a ```ts block whose preceding line is `<!-- example -->` is
// type-checked and run; `<!-- example: typecheck-only -->` is only type-checked (it would boot a full
// guest, open sockets or need files that are not in the repository).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
// @ts-expect-error plain ESM script without type declarations
import { PACKAGES as PACKAGE_GRAPH } from '../package-graph.mjs';

const PACKAGES = PACKAGE_GRAPH as Record<string, { dir: string }>;

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Inside the repository, so that the examples resolve workspace packages and `@types/node`. */
export const EXAMPLES_ROOT = path.join(ROOT, 'node_modules/.cache/typevisor/examples');

/** Every package directory whose README must carry at least one checked usage example. */
export const README_DIRS: readonly string[] = Object.values(PACKAGES).map((p) => p.dir);

/** Public entry points beyond each package's `src/index.ts`. */
const SUBPATH_ENTRIES: Record<string, string> = {
  '@typevisor/devices/testing': 'packages/devices/src/testing/index.ts',
  '@typevisor/vm-driver/node': 'packages/vm-driver/src/node/index.ts',
};

/** Every importable workspace name mapped to its source entry, relative to the repository root. */
export function workspaceEntries(): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const [name, p] of Object.entries(PACKAGES)) entries[name] = `${p.dir}/src/index.ts`;
  return { ...entries, ...SUBPATH_ENTRIES };
}

export type ExampleMode = 'run' | 'typecheck-only';

export interface Example {
  /** README (or source file) path relative to the repository root, e.g. `packages/mmu/README.md`. */
  readonly source: string;
  /** 1-based line of the opening fence in `source`. */
  readonly fenceLine: number;
  readonly mode: ExampleMode;
  readonly code: string;
  /** Lines written before `code` in the generated module (imports added for TSDoc examples). */
  readonly prelude?: string;
  /** A file name for the generated module, unique across all examples. */
  readonly moduleName: string;
}

const MARKER = /^<!--\s*example(?::\s*([\w-]+))?\s*-->\s*$/;

/** The marked ```ts blocks of one Markdown text, in order. A marker with an unknown mode throws. */
export function extractExamples(markdown: string, readme: string): Example[] {
  const lines = markdown.split(/\r?\n/);
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]!.trim());
    if (!marker) continue;
    const mode = marker[1] ?? 'run';
    if (mode !== 'run' && mode !== 'typecheck-only') {
      throw new Error(`${readme}:${i + 1}: unknown example mode '${mode}' (use <!-- example --> or <!-- example: typecheck-only -->)`);
    }
    const fence = lines[i + 1]?.trim();
    if (fence !== '```ts' && fence !== '```typescript') {
      throw new Error(`${readme}:${i + 1}: an example marker must be directly followed by a \`\`\`ts block`);
    }
    const end = lines.findIndex((line, j) => j > i + 1 && line.trim() === '```');
    if (end < 0) throw new Error(`${readme}:${i + 2}: the example's code block is never closed`);
    const slug = path.dirname(readme).replace(/[^\w]+/g, '-');
    examples.push({
      source: readme, fenceLine: i + 2, mode, code: lines.slice(i + 2, end).join('\n'),
      moduleName: `${slug}-L${i + 2}`,
    });
    i = end;
  }
  return examples;
}

/** The examples of every package README. */
export function collectExamples(): Example[] {
  return README_DIRS.flatMap((dir) => {
    const readme = `${dir}/README.md`;
    return extractExamples(fs.readFileSync(path.join(ROOT, readme), 'utf8'), readme);
  });
}

/**
 * Writes each example as a module into `dir` (`export {}` appended so that a block without imports
 * is still a module with top-level await). Line N of the module is line `fenceLine + N` of the README.
 */
export function writeExampleModules(examples: readonly Example[], dir: string): Map<Example, string> {
  fs.mkdirSync(dir, { recursive: true });
  const files = new Map<Example, string>();
  for (const example of examples) {
    const file = path.join(dir, `${example.moduleName}.ts`);
    fs.writeFileSync(file, `${example.prelude ?? ''}${example.code}\nexport {};\n`);
    files.set(example, file);
  }
  return files;
}

/**
 * Type-checks all example modules in ONE program with the repository's compiler settings (strict,
 * exactOptionalPropertyTypes, NodeNext), the Node types a reader of the example has, and `paths` to
 * the workspace sources. Unused locals are allowed: an example may name a value to show its type.
 * Returns the formatted errors of each example, located in its README.
 */
export function typecheckExamples(files: ReadonlyMap<Example, string>, oldProgram?: ts.Program): Map<Example, string[]> {
  const program = ts.createProgram({ rootNames: [...files.values()], options: exampleCompilerOptions(), ...(oldProgram ? { oldProgram } : {}) });
  const results = new Map<Example, string[]>();
  for (const [example, file] of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`the compiler did not load ${file}`);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    results.set(example, diagnostics.map((d) => locate(example, d)));
  }
  return results;
}

/** `tsconfig.base.json` with the Node types, `paths` to every public entry and unused locals allowed. */
function exampleCompilerOptions(): ts.CompilerOptions {
  const base = ts.readConfigFile(path.join(ROOT, 'tsconfig.base.json'), ts.sys.readFile);
  if (base.error) throw new Error(ts.flattenDiagnosticMessageText(base.error.messageText, '\n'));
  const paths: Record<string, string[]> = {};
  for (const [name, entry] of Object.entries(workspaceEntries())) paths[name] = [`./${entry}`];
  const config = ts.parseJsonConfigFileContent(
    {
      compilerOptions: {
        ...base.config.compilerOptions, lib: ['ES2023'], types: ['node'], paths,
        noUnusedLocals: false, noUnusedParameters: false, noEmit: true, sourceMap: false, declaration: false,
      },
      files: [],
    },
    ts.sys, ROOT,
  );
  const errors = config.errors.filter((e) => e.code !== 18002); // "files list is empty": roots are given later
  if (errors.length > 0) throw new Error(ts.formatDiagnostics(errors, formatHost));
  return config.options;
}

/**
 * The ```ts blocks inside `@example` tags of every declaration exported from a public entry of a
 * workspace package. They are type-checked only (they show one call in context). Every workspace
 * export the block names is imported for it; values the context provides are declared in the block
 * (`declare const memory: PhysicalMemory;`). Returns the program used, to be reused by
 * {@link typecheckExamples}.
 */
export function collectDocExamples(): { examples: Example[]; program: ts.Program } {
  const entries = workspaceEntries();
  const program = ts.createProgram({ rootNames: Object.values(entries).map((e) => path.join(ROOT, e)), options: exampleCompilerOptions() });
  const checker = program.getTypeChecker();
  /** Exported name -> how to import it (the first public entry that exports it wins). */
  const importable = new Map<string, { from: string; clause: string }>();
  const seen = new Set<ts.Node>();
  const examples: Example[] = [];
  const documented: ts.Node[] = [];
  for (const [specifier, entry] of Object.entries(entries)) {
    const source = program.getSourceFile(path.join(ROOT, entry));
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`cannot read the exports of ${entry}`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const isValue = (symbol.flags & ts.SymbolFlags.Value) !== 0;
      if (!importable.has(exported.name)) importable.set(exported.name, { from: specifier, clause: isValue ? exported.name : `type ${exported.name}` });
      for (const declaration of symbol.declarations ?? []) {
        if (seen.has(declaration)) continue;
        seen.add(declaration);
        documented.push(declaration);
      }
    }
  }
  for (const declaration of documented) {
    for (const tag of ts.getJSDocTags(declaration)) {
      if (tag.tagName.text !== 'example') continue;
      const file = tag.getSourceFile();
      const relative = path.relative(ROOT, file.fileName);
      const tagLine = file.getLineAndCharacterOfPosition(tag.getStart(file)).line;
      const text = ts.getTextOfJSDocComment(tag.comment) ?? '';
      const blocks = [...text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)];
      blocks.forEach((block, n) => {
        const code = block[1]!.replace(/\n$/, '');
        // Where the block's opening fence is in the file: the n-th "```ts" at or after the tag.
        let fence = tagLine;
        for (let found = -1; found < n; fence++) if (/^\s*\*?\s*```(ts|typescript)\s*$/.test(file.text.split('\n')[fence] ?? '')) found++;
        const names = new Set(code.match(/[A-Za-z_$][\w$]*/g) ?? []);
        const bySpecifier = new Map<string, string[]>();
        for (const name of [...names].sort()) {
          const how = importable.get(name);
          if (how === undefined || new RegExp(`(?:const|let|var|function|class)\\s+${name}\\b`).test(code)) continue;
          bySpecifier.set(how.from, [...(bySpecifier.get(how.from) ?? []), how.clause]);
        }
        const prelude = [...bySpecifier].map(([from, list]) => `import { ${list.join(', ')} } from '${from}';\n`).join('');
        examples.push({
          source: relative, fenceLine: fence, mode: 'typecheck-only', code, prelude,
          moduleName: `${relative.replace(/[^\w]+/g, '-')}-L${fence}`,
        });
      });
    }
  }
  return { examples, program };
}

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n',
};

function locate(example: Example, diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
  if (!diagnostic.file || diagnostic.start === undefined) return `${example.source}: TS${diagnostic.code}: ${message}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  const preludeLines = example.prelude === undefined ? 0 : example.prelude.split('\n').length - 1;
  if (line < preludeLines) return `${example.source}:${example.fenceLine} (added imports): TS${diagnostic.code}: ${message}`;
  return `${example.source}:${example.fenceLine + line - preludeLines + 1}:${character + 1}: TS${diagnostic.code}: ${message}`;
}

/**
 * Bundles the runnable examples (workspace packages resolved to their sources) into one `.mjs` each,
 * in `outdir`.
 */
export async function bundleExamples(files: ReadonlyMap<Example, string>, outdir: string): Promise<Map<Example, string>> {
  const alias: Record<string, string> = {};
  for (const [name, entry] of Object.entries(workspaceEntries())) alias[name] = path.join(ROOT, entry);
  const runnable = [...files].filter(([example]) => example.mode === 'run');
  await build({
    entryPoints: runnable.map(([, file]) => file), bundle: true, platform: 'node', format: 'esm', target: 'node20',
    outdir, outExtension: { '.js': '.mjs' }, alias, sourcemap: 'inline', logLevel: 'silent',
  });
  return new Map(runnable.map(([example]) => [example, path.join(outdir, `${example.moduleName}.mjs`)]));
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly output: string;
}

/** Runs a bundled example with Node in the repository root; kills it after `timeoutMs`. */
export function runBundle(bundle: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', bundle], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, timedOut, output });
    });
  });
}
