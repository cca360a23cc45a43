import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockIoError } from '@typevisor/devices';
import { FileBlockBackend, FileCharBackend, StdioCharBackend } from '@typevisor/vm-driver/node';
import type { StdioStreams } from '@typevisor/vm-driver/node';

const dir = mkdtempSync(join(tmpdir(), 'typevisor-backends-'));
function image(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('FileBlockBackend', () => {
  const opened: FileBlockBackend[] = [];
  afterEach(() => opened.splice(0).forEach((b) => b.close()));
  const open = (path: string, readOnly = false): FileBlockBackend => {
    const backend = FileBlockBackend.open(path, { readOnly });
    opened.push(backend);
    return backend;
  };

  it('reads and writes sectors at their offsets', () => {
    const path = image('rw.img', new Uint8Array(4096).map((_, i) => i & 0xff));
    const disk = open(path);
    expect(disk.size).toBe(4096);
    expect(disk.readOnly).toBe(false);
    expect(disk.id).toBe('rw.img');
    const sector = new Uint8Array(512);
    disk.read(512, sector);
    expect(sector[0]).toBe(0);
    expect(sector[1]).toBe(1);
    disk.write(1024, new Uint8Array(512).fill(0xee));
    disk.flush();
    expect(readFileSync(path)[1024]).toBe(0xee);
    disk.discard(1024, 512);
    expect(readFileSync(path)[1024]).toBe(0);
  });

  it('fsyncs on flush, and not for read-only disks', () => {
    const fsyncs: number[] = [];
    const fileSystem = { ...fs, fsyncSync: (fd: number) => { fsyncs.push(fd); fs.fsyncSync(fd); } };
    const disk = FileBlockBackend.open(image('sync.img', new Uint8Array(512)), { fileSystem });
    opened.push(disk);
    disk.write(0, new Uint8Array(512).fill(1));
    expect(fsyncs).toHaveLength(0);
    disk.flush();
    expect(fsyncs).toHaveLength(1);
    const ro = FileBlockBackend.open(image('sync-ro.img', new Uint8Array(512)), { fileSystem, readOnly: true });
    opened.push(ro);
    ro.flush();
    expect(fsyncs).toHaveLength(1);
  });

  it('opens read-only files and refuses writes with BlockIoError', () => {
    const path = image('ro.img', new Uint8Array(1024).fill(3));
    chmodSync(path, 0o444);
    const disk = open(path, true);
    expect(disk.readOnly).toBe(true);
    const dst = new Uint8Array(512);
    disk.read(0, dst);
    expect(dst[0]).toBe(3);
    expect(() => disk.write(0, dst)).toThrow(BlockIoError);
    expect(() => disk.write(0, dst)).toThrow(/read-only/);
    expect(() => disk.discard(0, 512)).toThrow(BlockIoError);
  });

  it('rejects out-of-range requests and closed disks with BlockIoError', () => {
    const disk = open(image('range.img', new Uint8Array(1024)));
    expect(() => disk.read(1024, new Uint8Array(512))).toThrow(BlockIoError);
    expect(() => disk.write(-512, new Uint8Array(512))).toThrow(BlockIoError);
    disk.close();
    expect(() => disk.read(0, new Uint8Array(512))).toThrow(/closed/);
  });

  it('rejects missing files and sizes that are not whole sectors, naming the file', () => {
    expect(() => FileBlockBackend.open(join(dir, 'missing.img'))).toThrow(/cannot open disk image .*missing\.img: ENOENT/);
    const odd = image('odd.img', new Uint8Array(1000));
    expect(() => FileBlockBackend.open(odd)).toThrow(/1000 bytes, not a multiple of 512/);
  });
});

describe('FileCharBackend', () => {
  it('writes guest output to the file', () => {
    const path = join(dir, 'serial.log');
    const backend = new FileCharBackend(path);
    backend.write(new TextEncoder().encode('hello '));
    backend.write(new TextEncoder().encode('world'));
    backend.close();
    expect(readFileSync(path, 'utf8')).toBe('hello world');
  });
});

class FakeStdin {
  isTTY = true;
  raw: boolean[] = [];
  listeners: ((chunk: Uint8Array) => void)[] = [];
  setRawMode(raw: boolean): void { this.raw.push(raw); }
  on(_e: 'data', l: (chunk: Uint8Array) => void): void { this.listeners.push(l); }
  off(_e: 'data', l: (chunk: Uint8Array) => void): void { this.listeners = this.listeners.filter((x) => x !== l); }
  resume(): void {}
  pause(): void {}
  type(bytes: number[]): void { for (const l of this.listeners) l(Uint8Array.from(bytes)); }
}

describe('StdioCharBackend', () => {
  function make(): { stdin: FakeStdin; out: number[]; received: number[]; quits: number[]; backend: StdioCharBackend } {
    const stdin = new FakeStdin();
    const out: number[] = [];
    const streams: StdioStreams = { stdin, stdout: { write: (c: Uint8Array) => out.push(...c) } };
    const quits: number[] = [];
    const backend = new StdioCharBackend({ onQuit: () => quits.push(1), streams });
    const received: number[] = [];
    backend.setReceiver((bytes) => received.push(...bytes));
    return { stdin, out, received, quits, backend };
  }

  it('passes input through in raw mode and restores the terminal on close', () => {
    const { stdin, received, backend } = make();
    expect(stdin.raw).toEqual([true]);
    stdin.type([0x6c, 0x73, 0x0d, 0x03]);
    expect(received).toEqual([0x6c, 0x73, 0x0d, 0x03]);
    backend.close();
    expect(stdin.raw).toEqual([true, false]);
    expect(stdin.listeners).toHaveLength(0);
  });

  it('Ctrl-A X quits, Ctrl-A Ctrl-A sends Ctrl-A, other escapes are dropped', () => {
    const { stdin, received, quits } = make();
    stdin.type([0x61, 0x01, 0x01, 0x62]);
    expect(received).toEqual([0x61, 0x01, 0x62]);
    stdin.type([0x01, 0x7a, 0x63]);
    expect(received).toEqual([0x61, 0x01, 0x62, 0x63]);
    stdin.type([0x01]);
    stdin.type([0x78]);
    expect(quits).toEqual([1]);
  });

  it('writes guest output to stdout', () => {
    const { backend, out } = make();
    backend.write(Uint8Array.of(0x68, 0x69));
    expect(out).toEqual([0x68, 0x69]);
  });
});
