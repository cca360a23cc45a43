#!/usr/bin/env node
// Enforces the import direction between workspace packages:
// - a package imports another only through its public entry points (its `exports` map),
// - only packages listed for it in scripts/package-graph.mjs (or with a written reason),
// - a relative import never leaves the package's own folder,
// - and each imported workspace package is declared in package.json dependencies.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOW_MARKER, PACKAGES } from './package-graph.mjs';

const IMPORT_RE = /(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function* walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      yield* walk(full);
    } else if (/\.(ts|mts|tsx|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      yield full;
    }
  }
}

function publicSubpaths(pkgDir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  return new Set(Object.entries(manifest.exports ?? {}).filter(([, v]) => v !== null).map(([k]) => k));
}

/**
 * Checks every source file of every workspace package.
 * @param {string} root repository root
 * @param {typeof PACKAGES} packages the rules (tests pass their own)
 * @returns {string[]} one message per violation
 */
export function checkImports(root, packages = PACKAGES) {
  const problems = [];
  const scopes = new Set(Object.keys(packages).map((n) => n.split('/')[0]));
  const exportsOf = new Map(Object.entries(packages).map(([name, p]) => [name, publicSubpaths(path.join(root, p.dir))]));
  for (const [name, pkg] of Object.entries(packages)) {
    const pkgDir = path.join(root, pkg.dir);
    const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies }));
    for (const dir of ['src', 'test', 'scripts']) {
      for (const file of walk(path.join(pkgDir, dir))) {
        const text = fs.readFileSync(file, 'utf8');
        const lines = text.split('\n');
        for (const match of text.matchAll(IMPORT_RE)) {
          const spec = match[1] ?? match[2];
          const lineNo = text.slice(0, match.index).split('\n').length;
          const where = `${path.relative(root, file)}:${lineNo}`;
          const justified = [lines[lineNo - 1], lines[lineNo - 2] ?? ''].some((l) => l.includes(ALLOW_MARKER));
          if (spec.startsWith('.')) {
            const target = path.resolve(path.dirname(file), spec);
            if (!target.startsWith(pkgDir + path.sep)) {
              problems.push(`${where}: relative import '${spec}' leaves ${pkg.dir}; import the other package by name`);
            }
            continue;
          }
          const m = /^(@[^/]+\/[^/]+)(\/.*)?$/.exec(spec);
          if (!m || !scopes.has(m[1].split('/')[0])) continue;
          const [, target, sub] = m;
          if (target === name) continue;
          if (!packages[target]) {
            problems.push(`${where}: '${target}' is not a workspace package`);
            continue;
          }
          if (!pkg.mayImport.includes(target) && !justified) {
            problems.push(`${where}: ${name} may not import ${target} (dependencies point down the table in DEVELOPERS.md; write '${ALLOW_MARKER} <reason>' on the import if this is deliberate)`);
          }
          if (!exportsOf.get(target).has(sub ? `.${sub}` : '.')) {
            problems.push(`${where}: '${spec}' is not a public entry of ${target} (its exports map does not list it)`);
          }
          if (dir === 'src' && !declared.has(target)) {
            problems.push(`${where}: ${name} imports ${target} but does not declare it in package.json dependencies`);
          }
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkImports(root);
  if (problems.length > 0) {
    console.error(`check-imports: ${problems.length} problem(s)\n` + problems.map((p) => `  ${p}`).join('\n'));
    process.exit(1);
  }
  console.log(`check-imports: ok (${Object.keys(PACKAGES).length} packages)`);
}
