/**
 * A progress bar on stderr for long CLI tasks: redrawn in place on a terminal, a line
 * every 10 % otherwise (logs, CI), so either way a user sees it move.
 */
export class ProgressBar {
  #lastShown = -1;
  readonly #tty: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Whether `done`/`total` are bytes (shown in MB) or a bare share (only the percentage is shown). */
    private readonly unit: 'bytes' | 'share' = 'bytes',
  ) {
    this.#tty = stream.isTTY;
  }

  update(done: number, total: number): void {
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const pct = Math.floor(share * 100);
    if (this.#tty) {
      if (pct === this.#lastShown) return;
      const width = 30;
      const filled = Math.round(share * width);
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}%${this.#amount(done, total, ' ')}`);
    } else {
      const step = Math.floor(pct / 10) * 10;
      if (step === this.#lastShown) return;
      this.stream.write(`${this.label}: ${step}%${this.#amount(done, total, ' (', ')')}\n`);
      this.#lastShown = step;
      return;
    }
    this.#lastShown = pct;
  }

  #amount(done: number, total: number, before: string, after = ''): string {
    return this.unit === 'bytes' ? `${before}${mb(done)}/${mb(total)} MB${after}` : '';
  }

  finish(): void {
    if (this.#tty) this.stream.write('\n');
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
