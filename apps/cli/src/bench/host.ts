/** Host facts and scratch files the benchmarks need (Node only). */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DISK_MIB } from './workloads.js';

/** What the host is, for comparing reports across machines. */
export function hostFacts(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    // The machine may be shared: a busy host slows every platform, so the load is part of the result.
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** A sparse scratch disk of {@link DISK_MIB} MiB in a fresh temporary directory, and how to remove it. */
export function createScratchDisk(): { readonly path: string; dispose(): void } {
  const dir = mkdtempSync(join(os.tmpdir(), 'typevisor-bench-'));
  const path = join(dir, 'disk.img');
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, DISK_MIB * 1048576);
  } finally {
    closeSync(fd);
  }
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
