/**
 * The snapshot file: a VM's CPU, device and memory state in one versioned, checksummed file, with
 * memory stored sparse (only pages that are not all zero), so untouched RAM costs nothing.
 *
 * Layout (little-endian):
 *   magic "TVSNAP\r\n" (8) | format version u32 | header length u32 | header JSON (UTF-8)
 *   | page count u32 | page numbers u32 × count | page data 4096 × count | SHA-256 of all before (32)
 *
 * The checksum is verified before anything else is trusted, so a truncated or tampered file is
 * rejected whole and nothing is half-restored.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { VmConfigSchema, VmError, parseWith, type VmConfig } from '@typevisor/vm-protocol';

/** The format version this build writes and reads. */
export const SNAPSHOT_FORMAT_VERSION = 1;
const MAGIC = new TextEncoder().encode('TVSNAP\r\n');
const PAGE = 4096;
const DIGEST = 32;
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** What a snapshot holds. `machine` is the driver's plain, versioned state (CPU, devices, clock). */
export interface SnapshotContent {
  /** The VM configuration the state belongs to (host resources are re-opened from it on restore). */
  readonly config: unknown;
  /** Plain data from the machine's saveState(). */
  readonly machine: unknown;
  /** Guest RAM. */
  readonly memory: Uint8Array;
}

function invalid(message: string): VmError {
  return new VmError('snapshot_invalid', `snapshot rejected: ${message}`);
}

/** Serializes a snapshot. */
export function encodeSnapshot(content: SnapshotContent): Uint8Array {
  if (content.memory.length % PAGE !== 0) throw new VmError('internal', 'guest memory size must be a multiple of 4 KiB');
  const pageCount = content.memory.length / PAGE;
  const words = new Uint32Array(content.memory.buffer, content.memory.byteOffset, content.memory.length >>> 2);
  const present: number[] = [];
  for (let page = 0; page < pageCount; page++) {
    const base = page * (PAGE / 4);
    for (let i = 0; i < PAGE / 4; i++) {
      if (words[base + i] !== 0) {
        present.push(page);
        break;
      }
    }
  }
  const header = new TextEncoder().encode(
    JSON.stringify({ config: content.config, machine: content.machine, memoryBytes: content.memory.length, createdAt: new Date().toISOString() }),
  );
  const size = MAGIC.length + 8 + header.length + 4 + present.length * 4 + present.length * PAGE + DIGEST;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(MAGIC, at);
  at += MAGIC.length;
  view.setUint32(at, SNAPSHOT_FORMAT_VERSION, true);
  view.setUint32(at + 4, header.length, true);
  at += 8;
  out.set(header, at);
  at += header.length;
  view.setUint32(at, present.length, true);
  at += 4;
  for (const page of present) {
    view.setUint32(at, page, true);
    at += 4;
  }
  for (const page of present) {
    out.set(content.memory.subarray(page * PAGE, (page + 1) * PAGE), at);
    at += PAGE;
  }
  out.set(createHash('sha256').update(out.subarray(0, at)).digest(), at);
  return out;
}

/**
 * Parses and verifies a snapshot. Throws `VmError('snapshot_invalid')` naming what is wrong:
 * not a snapshot, another format version, truncated, checksum mismatch, inconsistent sizes.
 */
export function decodeSnapshot(bytes: Uint8Array, limits: { maxMemoryBytes?: number } = {}): SnapshotContent {
  if (bytes.length < MAGIC.length + 8 + 4 + DIGEST) throw invalid(`file of ${bytes.length} bytes is too short to be a snapshot (truncated?)`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw invalid('not a typevisor snapshot (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(MAGIC.length, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) throw invalid(`format version ${version} is not supported (this build reads version ${SNAPSHOT_FORMAT_VERSION})`);
  const body = bytes.subarray(0, bytes.length - DIGEST);
  const digest = createHash('sha256').update(body).digest();
  const stored = bytes.subarray(bytes.length - DIGEST);
  if (!digest.equals(stored)) throw invalid('checksum mismatch: the file is truncated or has been modified');
  const headerLength = view.getUint32(MAGIC.length + 4, true);
  if (headerLength > MAX_HEADER_BYTES) throw invalid(`header of ${headerLength} bytes is larger than allowed`);
  let at = MAGIC.length + 8;
  if (at + headerLength + 4 > body.length) throw invalid('header runs past the end of the file');
  let header: { config?: unknown; machine?: unknown; memoryBytes?: unknown };
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + headerLength)));
  } catch {
    throw invalid('header is not valid JSON');
  }
  at += headerLength;
  const memoryBytes = header.memoryBytes;
  if (typeof memoryBytes !== 'number' || !Number.isInteger(memoryBytes) || memoryBytes <= 0 || memoryBytes % PAGE !== 0) throw invalid('memory size is missing or not a multiple of 4 KiB');
  if (limits.maxMemoryBytes !== undefined && memoryBytes > limits.maxMemoryBytes) throw invalid(`memory of ${memoryBytes} bytes exceeds the ${limits.maxMemoryBytes}-byte limit`);
  const count = view.getUint32(at, true);
  at += 4;
  const pageTotal = memoryBytes / PAGE;
  if (count > pageTotal || at + count * (4 + PAGE) !== body.length) throw invalid('page table does not match the file size');
  const memory = new Uint8Array(memoryBytes);
  const dataStart = at + count * 4;
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const page = view.getUint32(at + i * 4, true);
    if (page >= pageTotal || page <= previous) throw invalid(`page number ${page} is out of range or out of order`);
    previous = page;
    memory.set(bytes.subarray(dataStart + i * PAGE, dataStart + (i + 1) * PAGE), page * PAGE);
  }
  return { config: header.config, machine: header.machine, memory };
}

/**
 * Reads only the configuration from a snapshot file's header (to budget memory before a worker
 * reads and verifies the whole file). Throws `VmError` when the file is unreadable or not a snapshot.
 */
export function readSnapshotConfig(path: string): VmConfig {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new VmError('not_found', `cannot read snapshot ${path}: ${(error as Error).message}`);
  }
  try {
    const prefix = new Uint8Array(MAGIC.length + 8);
    if (readSync(fd, prefix, 0, prefix.length, 0) !== prefix.length) throw invalid('file is too short to be a snapshot (truncated?)');
    for (let i = 0; i < MAGIC.length; i++) if (prefix[i] !== MAGIC[i]) throw invalid('not a typevisor snapshot (bad magic)');
    const view = new DataView(prefix.buffer);
    const version = view.getUint32(MAGIC.length, true);
    if (version !== SNAPSHOT_FORMAT_VERSION) throw invalid(`format version ${version} is not supported (this build reads version ${SNAPSHOT_FORMAT_VERSION})`);
    const length = view.getUint32(MAGIC.length + 4, true);
    if (length > MAX_HEADER_BYTES) throw invalid(`header of ${length} bytes is larger than allowed`);
    const header = new Uint8Array(length);
    if (readSync(fd, header, 0, length, prefix.length) !== length) throw invalid('header runs past the end of the file');
    let parsed: { config?: unknown };
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(header));
    } catch {
      throw invalid('header is not valid JSON');
    }
    try {
      return parseWith(VmConfigSchema, parsed.config);
    } catch (error) {
      throw invalid(`its VM configuration is not valid: ${(error as Error).message}`);
    }
  } finally {
    closeSync(fd);
  }
}
