/** Process signals for the local servers (`npm start`, `npm run start:synth`). */

/** On the first SIGINT or SIGTERM, closes `running` once and exits 0 (1 when closing fails). */
export function stopOnSignals(running: { close(): Promise<unknown> }): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
