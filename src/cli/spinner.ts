import { elapsed } from './duration.js';
import { type Style, styleFor } from './style.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const INTERVAL_MS = 100;

/** What the spinner writes to: stderr in the CLI (stdout stays clean for data). */
export interface SpinnerStream {
  readonly isTTY?: boolean;
  write(chunk: string): unknown;
}

/**
 * A one-line spinner with the elapsed time, shown while a login waits for a person (the browser,
 * the device code, another process's login). Only on a terminal: on a pipe or a file it writes
 * nothing at all, because `\r` redraws would end up as garbage in logs. It redraws with `\r` and
 * spaces rather than cursor escape sequences, so with NO_COLOR not a single escape code is
 * written. `print()` writes a line above it without tearing the spinner line.
 */
export class Spinner {
  private readonly stream: SpinnerStream;
  private readonly enabled: boolean;
  private readonly style: Style;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private label = '';
  private startedAt = 0;
  private frame = 0;
  private drawnWidth = 0;

  constructor(
    stream: SpinnerStream,
    options: { env?: NodeJS.ProcessEnv; enabled?: boolean; now?: () => number } = {},
  ) {
    const env = options.env ?? process.env;
    this.stream = stream;
    this.enabled = options.enabled ?? spinnerAllowed(stream, env);
    this.style = styleFor(stream, env);
    this.now = options.now ?? Date.now;
  }

  get spinning(): boolean {
    return this.timer !== undefined;
  }

  /** Starts (or relabels) the spinner; the elapsed time counts from the first start. */
  start(label: string): void {
    this.label = label;
    if (!this.enabled) return;
    if (this.timer) {
      this.draw();
      return;
    }
    if (this.startedAt === 0) this.startedAt = this.now();
    this.draw();
    this.timer = setInterval(() => this.draw(), INTERVAL_MS);
    // Never the reason the process stays alive.
    this.timer.unref();
  }

  /** Writes `text` (whole lines) above the spinner, which then carries on below it. */
  print(text: string): void {
    const wasSpinning = this.spinning;
    this.clear();
    this.stream.write(text);
    if (wasSpinning) this.draw();
  }

  /** Stops and erases the spinner line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    const glyph = FRAMES[this.frame++ % FRAMES.length]!;
    const text = `${glyph} ${this.label} (${elapsed(this.now() - this.startedAt)})`;
    const plainWidth = [...text].length;
    const pad = ' '.repeat(Math.max(0, this.drawnWidth - plainWidth));
    this.stream.write(`\r${this.style.cyan(glyph)}${text.slice(glyph.length)}${pad}`);
    this.drawnWidth = plainWidth;
  }

  private clear(): void {
    if (this.drawnWidth === 0) return;
    this.stream.write(`\r${' '.repeat(this.drawnWidth)}\r`);
    this.drawnWidth = 0;
  }
}

/** A spinner only where a person watches a terminal that can redraw a line. */
export function spinnerAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb';
}
