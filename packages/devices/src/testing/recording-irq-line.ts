import type { IrqLine } from '../types.js';

/** An {@link IrqLine} that remembers its level and every change, for assertions in tests. */
export class RecordingIrqLine implements IrqLine {
  /** Current level. */
  level = false;
  /** Every level actually set, in order (repeats of the current level included). */
  readonly history: boolean[] = [];
  /** Number of low-to-high transitions. */
  rises = 0;

  /** @inheritDoc */
  setLevel(high: boolean): void {
    this.history.push(high);
    if (high && !this.level) this.rises++;
    this.level = high;
  }

  /** Forgets the history and rise count (the level stays). */
  clear(): void {
    this.history.length = 0;
    this.rises = 0;
  }
}
