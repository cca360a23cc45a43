import { describe, expect, it } from 'vitest';
import { PanicDetector } from '../src/worker/panic-detector.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('PanicDetector', () => {
  it('reports a kernel panic once, with its message, however the output is chunked', () => {
    const seen: string[] = [];
    const detector = new PanicDetector((m) => seen.push(m));
    const log = '[    7.48] Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\r\n[    7.48] CPU: 0 PID: 1\r\n';
    for (let i = 0; i < log.length; i += 7) detector.scan(bytes(log.slice(i, i + 7)));
    expect(seen).toEqual(['Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b']);
  });

  it('ignores ordinary output', () => {
    const seen: string[] = [];
    const detector = new PanicDetector((m) => seen.push(m));
    detector.scan(bytes('panic=-1 on the command line; Kernel said hello\n'));
    expect(seen).toEqual([]);
  });
});
