/**
 * Progress of long work on stderr: a bar redrawn in place on a terminal, a plain line every few seconds
 * otherwise (logs, CI), so stdout stays clean for --json.
 */
export function progress(label: string) {
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  return {
    update(done: number, total?: number, extra = '') {
      const pct = total ? Math.min(100, Math.floor((100 * done) / Math.max(1, total))) : undefined;
      if (tty) {
        const width = 30;
        const filled = pct === undefined ? 0 : Math.round((pct / 100) * width);
        const bar = pct === undefined ? '' : `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% `;
        process.stderr.write(`\r${label} ${bar}${done}${total ? `/${total}` : ''} ${extra}`.padEnd(100));
      } else if (Date.now() - lastLine > 2000) {
        lastLine = Date.now();
        process.stderr.write(`${label}: ${done}${total ? `/${total}` : ''} ${extra}\n`);
      }
    },
    done(message: string) {
      if (tty) process.stderr.write('\n');
      process.stderr.write(`${label}: ${message}\n`);
    },
  };
}
