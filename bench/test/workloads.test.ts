import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AWK_ITERATIONS, BLK_RANDOM_WORKLOAD, CONSOLE_WORKLOAD, CPU_WORKLOADS, DISK_MIB, RANDOM_READS, SHA256_OF_16MIB_ZEROS, cleanConsoleOutput,
  markCommand, randomBlocks, sumOfSquares,
} from '@typevisor/cli/bench';

describe('marked commands', () => {
  it('computes its markers in the shell, so the echoed command line never matches them', () => {
    const marked = markCommand('uname -a', 41);
    expect(marked.line).toBe('echo @@B41+1=$((41+1))@@; uname -a; echo @@E41+1=$((41+1))@@\n');
    expect(marked.begin).toBe('@@B41+1=42@@');
    expect(marked.end).toBe('@@E41+1=42@@');
    expect(marked.line).not.toContain(marked.begin);
    expect(marked.line).not.toContain(marked.end);
  });

  it('refuses multi-line commands and bad ids', () => {
    expect(() => markCommand('a\nb', 1)).toThrow(/one line/);
    expect(() => markCommand('a', -1)).toThrow(/non-negative/);
  });

  it('cleans carriage returns and interleaved kernel log lines', () => {
    expect(cleanConsoleOutput('a\r\n[   25.449322] clocksource: tsc unstable\r\nb\r\n')).toBe('a\nb\n');
  });
});

describe('workload answers', () => {
  it('knows the real SHA-256 of 16 MiB of zeros and the awk sum', () => {
    expect(createHash('sha256').update(new Uint8Array(16 << 20)).digest('hex')).toBe(SHA256_OF_16MIB_ZEROS);
    let sum = 0;
    for (let i = 0; i < AWK_ITERATIONS; i++) sum += i * i;
    expect(sumOfSquares(AWK_ITERATIONS)).toBe(String(sum));
    expect(sumOfSquares(AWK_ITERATIONS)).toBe('8999955000050000');
  });

  it('accepts the right output (as busybox prints it) and rejects anything else', () => {
    const [sha, awk] = CPU_WORKLOADS;
    expect(() => sha.check(`${SHA256_OF_16MIB_ZEROS}  -\n`)).not.toThrow();
    expect(() => sha.check('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -\n')).toThrow(/expected a line/);
    expect(() => awk.check('8999955000050000\n')).not.toThrow();
    expect(() => awk.check('')).toThrow(/cpu.awk-loop/);
    expect(() => CONSOLE_WORKLOAD.check('y\n'.repeat(131072))).not.toThrow();
    expect(() => CONSOLE_WORKLOAD.check('y\n'.repeat(1000))).toThrow(/131072 lines/);
    expect(() => BLK_RANDOM_WORKLOAD.check(`reads=${RANDOM_READS}\n`)).not.toThrow();
    expect(() => BLK_RANDOM_WORKLOAD.check('reads=3\n')).toThrow();
  });

  it('picks distinct random blocks in the second half of the disk, the same each time', () => {
    const blocks = randomBlocks(RANDOM_READS);
    expect(new Set(blocks).size).toBe(RANDOM_READS);
    const half = (DISK_MIB * 256) / 2;
    for (const b of blocks) expect(b >= half && b < 2 * half).toBe(true);
    expect(randomBlocks(RANDOM_READS)).toEqual(blocks);
    expect(() => randomBlocks(10, 0.01)).toThrow(/cannot pick/);
  });
});
