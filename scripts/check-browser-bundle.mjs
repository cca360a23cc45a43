#!/usr/bin/env node
// Core packages must run in browsers: bundle each one for the browser platform and fail on any
// Node built-in import (node:fs, fs, ...) or use of Node-only globals (process, Buffer, require).
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PACKAGES } from './package-graph.mjs';

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const NODE_GLOBALS = /\b(process\.(?:env|argv|exit|platform|nextTick|hrtime|stdout|stderr)|Buffer\.(?:from|alloc|concat|isBuffer)|require\(|__dirname|__filename)\b/;

/**
 * Bundles `entry` for the browser and reports every Node dependency found.
 * @param {string} entry absolute path of a TypeScript entry point
 * @param {Record<string, string>} aliases workspace package name -> entry path, so imports of other
 *   workspace packages are checked through their sources
 * @returns {Promise<string[]>} problems (empty when the bundle is browser-clean)
 */
export async function checkBrowserBundle(entry, aliases = {}) {
  const problems = [];
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
    metafile: false,
    plugins: [
      {
        name: 'no-node',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (NODE_BUILTINS.has(args.path)) {
              problems.push(`${path.relative(process.cwd(), args.importer)} imports Node built-in '${args.path}'`);
              return { path: args.path, external: true };
            }
            if (aliases[args.path]) return { path: aliases[args.path] };
            return undefined;
          });
        },
      },
    ],
  }).catch((error) => ({ errors: error.errors ?? [{ text: String(error) }], outputFiles: [] }));
  for (const e of result.errors ?? []) problems.push(`bundle error: ${e.text}${e.location ? ` at ${e.location.file}:${e.location.line}` : ''}`);
  for (const file of result.outputFiles ?? []) {
    const match = NODE_GLOBALS.exec(file.text);
    if (match) problems.push(`bundle uses the Node-only global '${match[1]}'`);
  }
  return problems;
}

/** Workspace entry points, for resolving imports between core packages from source. */
export function workspaceEntries(root) {
  const aliases = {};
  for (const [name, p] of Object.entries(PACKAGES)) aliases[name] = path.join(root, p.dir, 'src/index.ts');
  aliases['@typevisor/devices/testing'] = path.join(root, 'packages/devices/src/testing/index.ts');
  return aliases;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const aliases = workspaceEntries(root);
  let failed = 0;
  for (const [name, p] of Object.entries(PACKAGES)) {
    if (!p.core) continue;
    for (const [entryName, entry] of Object.entries(aliases)) {
      if (entryName !== name && !entryName.startsWith(`${name}/`)) continue;
      const problems = await checkBrowserBundle(entry, aliases);
      if (problems.length) {
        failed++;
        console.error(`check-browser-bundle: ${entryName}:\n` + problems.map((x) => `  ${x}`).join('\n'));
      } else {
        console.log(`check-browser-bundle: ${entryName} ok`);
      }
    }
  }
  if (failed) process.exit(1);
}
