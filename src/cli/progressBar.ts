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
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${mb(done)}/${mb(total)} MB`);
    } else {
      const step = Math.floor(pct / 10) * 10;
      if (step === this.#lastShown) return;
      this.stream.write(`${this.label}: ${step}% (${mb(done)}/${mb(total)} MB)\n`);
      this.#lastShown = step;
      return;
    }
    this.#lastShown = pct;
  }

  finish(): void {
    if (this.#tty) this.stream.write('\n');
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
