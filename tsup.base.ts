import { defineConfig } from 'tsup';

/** What differs between the packages' builds; everything else is shared below. */
export interface PackageBuild {
  /** Source entry points, e.g. `['src/index.ts']`; each becomes `dist/<path>.js` with its `.d.ts`. */
  readonly entry: string[];
  /** `'neutral'` for packages that must run in browsers and Node alike, `'node'` for Node-only ones. */
  readonly platform: 'neutral' | 'node';
}

/**
 * The tsup configuration of one workspace package: ESM only, type declarations and source maps,
 * ES2022, a clean `dist/` every build. Each package's `tsup.config.ts` calls this with its entries.
 */
export function packageConfig({ entry, platform }: PackageBuild): ReturnType<typeof defineConfig> {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform,
  });
}
