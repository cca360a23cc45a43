/** A command-line mistake: names the flag (or file) and what to do. Exit code 2, like other CLIs. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
  /** The flag or argument at fault, e.g. `--mem`. */
  readonly flag: string;

  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.flag = flag;
  }
}
