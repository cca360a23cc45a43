#!/usr/bin/env node
// The project's one test command (README: `npx pnpm@12.4.2 test`; CI runs the same through .ci/run).
// It runs every gate in order — build, type check, lint, package checks (publint, attw), the import
// direction and browser-bundle checks, the API docs build, then every vitest project — and ends with
// one line `N passed, N failed`, counting each test case and each gate. vitest runs Debian's stock
// kernel boot (vm-driver-debian) after all other projects, downloading the kernel when the Debian
// archive is reachable and skipping with the reason otherwise; the summary repeats its outcome.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const startedAt = Date.now();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
process.chdir(root);

// node_modules/.bin first, as `pnpm test` would have it: turbo looks for the pnpm binary there when
// this script runs as plain `node scripts/test.mjs`.
const toolEnv = {
  ...process.env, FORCE_COLOR: '0', TURBO_TELEMETRY_DISABLED: '1',
  PATH: [path.join(root, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(path.delimiter),
};

function run(label, command, args, options = {}) {
  const started = Date.now();
  console.log(`\n=== ${label}: ${[path.basename(command), ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: toolEnv, ...options });
  const ok = result.status === 0;
  console.log(`=== ${label}: ${ok ? 'ok' : `FAILED (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return ok;
}

/** The native toolchain that the differential and system-level CPU tests compare against. */
function ensureNativeToolchain() {
  const probe = spawnSync('sh', ['-c', "command -v nasm >/dev/null && printf 'int main(void){return 0;}' | gcc -m32 -x c - -o /tmp/typevisor-m32-probe"], { stdio: 'ignore' });
  if (probe.status === 0) return true;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && fs.existsSync('/usr/bin/apt-get')) {
    console.log('Installing the native toolchain for the CPU differential tests (nasm, gcc-multilib)...');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'nasm', 'gcc-multilib'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (install.status === 0) return true;
  }
  console.error('The CPU tests need nasm and a 32-bit gcc. Install them with: sudo apt-get install -y nasm gcc-multilib');
  return false;
}

const gates = [];
const gate = (label, ok) => gates.push({ label, ok });

gate('native toolchain', ensureNativeToolchain());
gate('build, typecheck, lint, package checks', run('turbo', bin('turbo'), ['run', 'build', 'typecheck', 'lint', 'check-package', '--output-logs=errors-only']));
gate('import direction', run('imports', process.execPath, ['scripts/check-imports.mjs']));
gate('browser bundles of core packages', run('browser', process.execPath, ['scripts/check-browser-bundle.mjs']));
gate('API docs', run('docs', bin('typedoc'), ['--logLevel', 'Warn']));

const report = path.join(root, '.reports', 'vitest.json');
fs.mkdirSync(path.dirname(report), { recursive: true });
fs.rmSync(report, { force: true });
run('vitest', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)]);

/**
 * One line on the Debian kernel boot (packages/vm-driver/test/debian-kernel.test.ts, the
 * vm-driver-debian project, which vitest runs after every other project): its status, host time, and
 * what the test reported (the boot's time, or why it skipped: no archive, not root). Null when the run
 * did not include it (a filter on the command line).
 */
function debianBootSummary(results) {
  for (const file of results.testResults) {
    if (!file.name.endsWith('debian-kernel.test.ts')) continue;
    const test = file.assertionResults[0];
    if (test === undefined) return `${file.status}: ${file.message}`;
    const note = test.meta?.debianBoot;
    if (note !== undefined) return `${test.status} — ${note}`;
    return `${test.status}${typeof test.duration === 'number' ? ` after ${(test.duration / 1000).toFixed(1)} s` : ''}`;
  }
  return null;
}

let passed = 0;
let failed = 0;
let debianBoot = null;
if (fs.existsSync(report)) {
  const results = JSON.parse(fs.readFileSync(report, 'utf8'));
  debianBoot = debianBootSummary(results);
  passed += results.numPassedTests;
  failed += results.numFailedTests + (results.success ? 0 : results.numFailedTestSuites);
  if (results.numTotalTests === 0) {
    console.error('vitest ran no tests');
    failed++;
  }
} else {
  console.error('vitest wrote no report');
  failed++;
}
for (const g of gates) (g.ok ? passed++ : failed++);
console.log('\nGates:');
for (const g of gates) console.log(`  ${g.ok ? 'ok    ' : 'FAILED'} ${g.label}`);
if (debianBoot !== null) console.log(`Debian kernel boot (vm-driver-debian): ${debianBoot}`);
console.log(`Total: ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
