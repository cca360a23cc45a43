import * as nodeFs from 'node:fs';
import { basename } from 'node:path';
import { BlockIoError } from '@typevisor/devices';
import type { BlockBackend } from '@typevisor/devices';

/** Options of {@link FileBlockBackend.open}. */
export interface FileBlockBackendOptions {
  /** Open the file O_RDONLY and refuse writes. */
  readonly readOnly?: boolean;
  /** Identifier shown to the guest (at most 20 bytes); defaults to the file name. */
  readonly id?: string;
  /** The file-system calls to use; defaults to `node:fs`. Tests pass a wrapper to observe fsync. */
  readonly fileSystem?: FileSystemCalls;
}

/** The synchronous `node:fs` calls the backend makes. */
export type FileSystemCalls = Pick<typeof nodeFs, 'openSync' | 'fstatSync' | 'readSync' | 'writeSync' | 'fsyncSync' | 'closeSync'>;

const ZERO_CHUNK = new Uint8Array(64 * 1024);

/**
 * A disk image file as a {@link BlockBackend}: synchronous positional reads and writes on a file
 * descriptor, `flush` = fsync. A read past the end of the file (a sparse tail) reads zeros. Host
 * failures become {@link BlockIoError}, which the virtio-blk device reports to the guest as an I/O
 * error. The size is fixed when the file is opened and must be a whole number of 512-byte sectors.
 */
export class FileBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  readonly id: string;
  private fd: number | null;
  private readonly fs: FileSystemCalls;

  private constructor(fs: FileSystemCalls, fd: number, size: number, readOnly: boolean, id: string) {
    this.fs = fs;
    this.fd = fd;
    this.size = size;
    this.readOnly = readOnly;
    this.id = id;
  }

  /** Opens `path`; throws a plain Error naming the file if it cannot be used as a disk. */
  static open(path: string, options: FileBlockBackendOptions = {}): FileBlockBackend {
    const readOnly = options.readOnly ?? false;
    const fs = options.fileSystem ?? nodeFs;
    let fd: number;
    try {
      fd = fs.openSync(path, readOnly ? nodeFs.constants.O_RDONLY : nodeFs.constants.O_RDWR);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      const hint = code === 'EACCES' || code === 'EROFS' ? '; open it read-only (",ro")' : '';
      throw new Error(`cannot open disk image ${path}: ${code}${hint}`, { cause: error });
    }
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() && !stat.isBlockDevice()) {
      fs.closeSync(fd);
      throw new Error(`disk image ${path} is not a regular file`);
    }
    if (stat.size % 512 !== 0) {
      fs.closeSync(fd);
      throw new Error(`disk image ${path} is ${stat.size} bytes, not a multiple of 512; pad it (truncate -s %512)`);
    }
    const id = (options.id ?? basename(path)).slice(0, 20);
    return new FileBlockBackend(fs, fd, stat.size, readOnly, id);
  }

  read(offset: number, dst: Uint8Array): void {
    const fd = this.descriptor();
    this.checkRange(offset, dst.length);
    let done = 0;
    while (done < dst.length) {
      const n = this.io(() => this.fs.readSync(fd, dst, done, dst.length - done, offset + done));
      if (n === 0) {
        dst.fill(0, done);
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new BlockIoError(`disk ${this.id} is read-only`);
    const fd = this.descriptor();
    this.checkRange(offset, src.length);
    let done = 0;
    while (done < src.length) done += this.io(() => this.fs.writeSync(fd, src, done, src.length - done, offset + done));
  }

  flush(): void {
    if (this.readOnly) return;
    const fd = this.descriptor();
    this.io(() => this.fs.fsyncSync(fd));
  }

  /** Writes zeros over the range (portable; no hole punching from Node). */
  discard(offset: number, length: number): void {
    if (this.readOnly) throw new BlockIoError(`disk ${this.id} is read-only`);
    this.checkRange(offset, length);
    for (let at = 0; at < length; at += ZERO_CHUNK.length) {
      this.write(offset + at, ZERO_CHUNK.subarray(0, Math.min(ZERO_CHUNK.length, length - at)));
    }
  }

  /** Closes the file; later operations fail with {@link BlockIoError}. */
  close(): void {
    if (this.fd !== null) this.fs.closeSync(this.fd);
    this.fd = null;
  }

  private descriptor(): number {
    if (this.fd === null) throw new BlockIoError(`disk ${this.id} is closed`);
    return this.fd;
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > this.size) {
      throw new BlockIoError(`disk ${this.id}: range ${offset}+${length} is outside its ${this.size} bytes`);
    }
  }

  private io<T>(operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      throw new BlockIoError(`disk ${this.id}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  }
}
