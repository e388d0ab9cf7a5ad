const started = performance.now();

/** One progress line on stderr, with the seconds since the run began. */
export function progress(message: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
}

export function elapsedSeconds(): number {
  return (performance.now() - started) / 1000;
}

/** Runs one measurement; a failure is reported and recorded, and the run goes on. */
export async function attempt(errors: string[], what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    progress(`FAILED ${message.split('\n')[0]}`);
    errors.push(message);
  }
}
