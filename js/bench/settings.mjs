// The bench scripts' settings: `--flag VALUE`, else the environment variable, else the full or
// the `--quick` (BENCH_QUICK=1) default; numbers only, positive (or zero where allowed).
const argv = process.argv.slice(2);

/** The value after `name` on the command line, or `fallback`. */
export function arg(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
}

/** Whether this is a quick (smoke) run. */
export const QUICK = argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/** A numeric setting: `--flag`, else `env`, else `full` (or `quick` in a quick run). */
export function setting(flag, env, full, quick, { zero = false } = {}) {
  const value = Number(arg(flag, process.env[env] ?? (QUICK ? quick : full)));
  if (!Number.isFinite(value) || value < 0 || (!zero && value === 0)) throw new Error(`bad ${flag} / ${env}: ${value}`);
  return value;
}
