/**
 * Reads one file out of a gzip-compressed "newc" cpio archive (the initramfs format), so the native
 * benchmarks can run the very busybox binary the guest runs.
 */
import { gunzipSync } from 'node:zlib';
import { BenchError } from '@typevisor/cli/bench';

const NEWC_MAGIC = '070701';
const HEADER_BYTES = 110;
const TRAILER = 'TRAILER!!!';

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One archive member. */
export interface CpioEntry {
  readonly name: string;
  /** File mode (type and permission bits). */
  readonly mode: number;
  readonly data: Uint8Array;
}

/** Lists the members of an uncompressed newc archive. Throws {@link BenchError} on a malformed one. */
export function readNewc(archive: Uint8Array): CpioEntry[] {
  const entries: CpioEntry[] = [];
  const ascii = (from: number, length: number) => String.fromCharCode(...archive.subarray(from, from + length));
  let at = 0;
  while (at + HEADER_BYTES <= archive.length) {
    if (ascii(at, 6) !== NEWC_MAGIC) throw new BenchError(`cpio: bad magic at offset ${at} (only the newc format is supported)`);
    const field = (index: number) => {
      const text = ascii(at + 6 + index * 8, 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new BenchError(`cpio: bad header field at offset ${at}`);
      return parseInt(text, 16);
    };
    const mode = field(1);
    const fileSize = field(6);
    const nameSize = field(11);
    const nameStart = at + HEADER_BYTES;
    const dataStart = align4(nameStart + nameSize);
    const dataEnd = dataStart + fileSize;
    if (nameSize === 0 || dataEnd > archive.length) throw new BenchError(`cpio: member at offset ${at} runs past the end of the archive`);
    const name = ascii(nameStart, nameSize - 1);
    if (name === TRAILER) return entries;
    entries.push({ name, mode, data: archive.subarray(dataStart, dataEnd) });
    at = align4(dataEnd);
  }
  throw new BenchError('cpio: archive ends without a TRAILER!!! member');
}

/** The contents of `path` (e.g. `bin/busybox`) in a gzip'd newc archive. */
export function extractFromInitramfs(gzipped: Uint8Array, path: string): Uint8Array {
  const wanted = path.replace(/^\.?\//, '');
  const entry = readNewc(gunzipSync(gzipped)).find((e) => e.name.replace(/^\.?\//, '') === wanted);
  if (entry === undefined) throw new BenchError(`the initramfs has no ${path}`);
  return entry.data;
}
