// The edgeward CLI as the tests run it: the binary `make build-core` leaves at
// target/release/edgeward (EDGEWARD_CLI=/path overrides it), run to completion.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = process.env.EDGEWARD_CLI || join(dirname(fileURLToPath(import.meta.url)), '../../../target/release/edgeward');

/** Runs `edgeward ARGS…` in `cwd`; `{ code, stdout, stderr }`. */
export function runCli(args, { cwd, input } = {}) {
  const run = spawnSync(CLI, args, { cwd, input, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
