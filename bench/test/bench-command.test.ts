import { describe, expect, it } from 'vitest';
import { BENCHMARK_GROUPS, instructionMixNote, parseBenchArgs, runBenchCommand } from '@typevisor/cli/bench';

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

describe('instruction mix in the report', () => {
  it('is off unless --instruction-mix is given', () => {
    expect(parseBenchArgs([]).instructionMix).toBe(false);
    expect(parseBenchArgs(['--instruction-mix', '--only', 'cpu']).instructionMix).toBe(true);
  });

  it('turns class counts into a note with shares of the total, and says nothing when nothing was counted', () => {
    const note = instructionMixNote(new Map([['alu', 500_000_000], ['dataTransfer', 300_000_000], ['branch', 150_000_000], ['string', 50_000_000], ['fpu', 0], ['system', 0]]));
    expect(note).toBe('cpu: instruction mix of the CPU workloads (1000 M instructions): alu 50.0%, dataTransfer 30.0%, branch 15.0%, string 5.0%, fpu 0.0%, system 0.0%');
    expect(instructionMixNote(new Map())).toBeNull();
    expect(instructionMixNote(new Map([['alu', 0]]))).toBeNull();
  });
});
