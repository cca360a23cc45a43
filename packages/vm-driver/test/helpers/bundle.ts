import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Imports a TypeScript module of this repository as one esbuild bundle, loaded by Node itself.
 *
 * Under vitest's module runner (Vite's SSR transform) each use of an imported binding becomes a
 * read of the exporting module's namespace object through a getter; in the interpreter's hot paths,
 * which call across modules for every guest instruction, that costs a factor of about 2.5 (Debian
 * kernel boot: 507 s in vitest against 206 s bundled, one snapshot of the tree, similar host load).
 * A bundle has plain local bindings, and a `.mjs` file under node_modules is one vitest leaves to
 * Node's own `import`. Each call writes its own bundle (concurrent runs do not share one); `dispose`
 * removes it.
 */
export async function importBundled<T>(entry: string): Promise<{ readonly module: T; dispose(): void }> {
  const cache = path.join(root, 'node_modules', '.cache', 'typevisor');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(path.join(cache, 'bundle-'));
  const outfile = path.join(dir, `${path.basename(entry, '.ts')}.mjs`);
  const alias: Record<string, string> = {};
  for (const name of ['mmu', 'cpu-x86', 'devices', 'perf-model', 'vm-driver']) alias[`@typevisor/${name}`] = path.join(root, 'packages', name, 'src/index.ts');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, alias, logLevel: 'warning' });
  const module = (await import(pathToFileURL(outfile).href)) as T;
  return { module, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
