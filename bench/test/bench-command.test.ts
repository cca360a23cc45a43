import { describe, expect, it } from 'vitest';
import { BENCHMARK_GROUPS, parseBenchArgs, runBenchCommand } from '@typevisor/cli/bench';

function capture() {
  const text = { stdout: '', stderr: '' };
  return { text, output: { stdout: { write: (s: string) => (text.stdout += s) }, stderr: { write: (s: string) => (text.stderr += s) } } };
}

describe('typevisor bench arguments', () => {
  it('defaults to 3 runs of every group and parses the flags', () => {
    const defaults = parseBenchArgs([]);
    expect(defaults.runs).toBe(3);
    expect([...defaults.groups]).toEqual([...BENCHMARK_GROUPS]);
    const options = parseBenchArgs(['--runs', '5', '--only', 'boot,cpu', '--json', 'r.json', '--mem', '256']);
    expect(options).toMatchObject({ runs: 5, json: 'r.json', memoryMiB: 256 });
    expect([...options.groups]).toEqual(['boot', 'cpu']);
  });

  it('prints help, and rejects bad flags with exit status 2 naming the flag', async () => {
    const help = capture();
    expect(await runBenchCommand(['--help'], { output: help.output })).toBe(0);
    expect(help.text.stdout).toMatch(/Usage: typevisor bench/);
    const bad = capture();
    expect(await runBenchCommand(['--only', 'gpu'], { output: bad.output })).toBe(2);
    expect(bad.text.stderr).toMatch(/--only: unknown benchmark group "gpu"/);
    const zero = capture();
    expect(await runBenchCommand(['--runs', '0'], { output: zero.output })).toBe(2);
    expect(zero.text.stderr).toMatch(/--runs/);
    const lonely = capture();
    expect(await runBenchCommand(['--kernel', '/k'], { output: lonely.output })).toBe(2);
    expect(lonely.text.stderr).toMatch(/--initrd: is needed with --kernel/);
  });
});
