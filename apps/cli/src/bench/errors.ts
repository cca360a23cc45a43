/** A benchmark could not run or produced a wrong result; the message says what and what to do. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}

/** Something the benchmark needs on the host is missing (a binary, an image, an npm package). */
export class MissingPrerequisiteError extends BenchError {
  /** What is missing, e.g. `qemu-system-i386`. */
  readonly what: string;
  /** How to get it, e.g. `apt-get install -y qemu-system-x86`. */
  readonly fix: string;

  constructor(what: string, fix: string) {
    super(`missing ${what}: ${fix}`);
    this.what = what;
    this.fix = fix;
  }
}
