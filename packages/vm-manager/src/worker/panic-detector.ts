/**
 * Recognises a Linux kernel panic in console output ("Kernel panic - not syncing: ..."), so the
 * manager can report a `guestPanic` event. Output arrives in arbitrary chunks, so a short tail of
 * the previous chunk is kept; each panic is reported once, with its message line.
 */
const MARKER = 'Kernel panic - not syncing: ';
const MAX_LINE = 512;

export class PanicDetector {
  #tail = '';
  #pendingLine: string | null = null;
  readonly #report: (message: string) => void;

  constructor(report: (message: string) => void) {
    this.#report = report;
  }

  /** Feeds console bytes. */
  scan(bytes: Uint8Array): void {
    let text = this.#tail;
    for (const byte of bytes) text += String.fromCharCode(byte);
    if (this.#pendingLine !== null) {
      this.#pendingLine += text;
      text = '';
    } else {
      const at = text.indexOf(MARKER);
      if (at >= 0) {
        this.#pendingLine = text.slice(at + MARKER.length);
        text = '';
      }
    }
    if (this.#pendingLine !== null) {
      const end = this.#pendingLine.search(/\r|\n/);
      if (end >= 0 || this.#pendingLine.length >= MAX_LINE) {
        this.#report(`Kernel panic - not syncing: ${this.#pendingLine.slice(0, end >= 0 ? end : MAX_LINE)}`);
        this.#pendingLine = null;
      }
    }
    this.#tail = text.slice(-(MARKER.length - 1));
  }
}
