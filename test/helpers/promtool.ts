import { spawnSync } from 'node:child_process';

// prom-client's default collectors name three gauges with a `_total` suffix, which promtool's lint
// refuses; they are the library's names, not ours, so they are left out of the check (and only they).
const UPSTREAM = /^(# (HELP|TYPE) )?nodejs_active_(handles|requests|resources)_total\b/;

/** `promtool check metrics` on an exposition; returns promtool's complaints ('' when clean). */
export function promtoolLint(text: string): { ok: boolean; output: string } {
  const ours = text
    .split('\n')
    .filter((l) => !UPSTREAM.test(l))
    .join('\n');
  const r = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is not installed (Debian package prometheus): ${r.error.message}`);
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
