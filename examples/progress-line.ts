// A status line for long-running examples: on a terminal it redraws in place
// (carriage return + clear line, about ten times a second); when the output
// is a file or a pipe it prints a plain line about once a second instead, so
// logs stay readable.

/** What the line writes to: `process.stdout`, or anything shaped like it. */
export interface LineOutput {
  readonly isTTY?: boolean;
  /** Terminal width; a redrawn line longer than this would wrap and break the redraw. */
  readonly columns?: number;
  write(text: string): unknown;
}

const CLEAR_LINE = '\r\x1b[2K';

export class ProgressLine {
  /** How often the caller should call `show()`: 100 ms on a terminal, 1 s otherwise. */
  readonly intervalMs: number;
  readonly #out: LineOutput;
  readonly #tty: boolean;
  /** A redrawn line is on screen and the cursor is at its end. */
  #drawn = false;

  constructor(out: LineOutput) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.intervalMs = this.#tty ? 100 : 1000;
  }

  /** Shows `text` as the current status: replaces the line on a terminal, appends one otherwise. */
  show(text: string): void {
    if (!this.#tty) {
      this.#out.write(`${text}\n`);
      return;
    }
    const width = this.#out.columns;
    const fitted = width && text.length >= width ? text.slice(0, width - 1) : text;
    this.#out.write(`${CLEAR_LINE}${fitted}`);
    this.#drawn = true;
  }

  /** Writes `text` on a line of its own, below the status line (which stays as it was last drawn). */
  print(text: string): void {
    this.end();
    this.#out.write(`${text}\n`);
  }

  /** Leaves the status line on screen and moves to the next line. */
  end(): void {
    if (!this.#drawn) return;
    this.#out.write('\n');
    this.#drawn = false;
  }
}
