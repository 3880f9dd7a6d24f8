// Helpers shared by the start, test and bench scripts: run a command and
// stop on failure, and install the toolchain pieces a fresh machine lacks.
import { spawnSync } from 'node:child_process';

/** Runs a command with inherited stdio and exits the process if it fails. */
export function run(cmd, args, options = {}) {
  console.error(`+ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`error: could not run ${cmd}: ${result.error.message}`);
    process.exit(2);
  }
  if (result.status !== 0) {
    console.error(`error: ${cmd} ${args.join(' ')} exited with status ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

/** Returns the trimmed standard output of a command, or null if it failed. */
export function output(cmd, args) {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** Installs a rustup target when it is not installed yet. */
export function ensureRustTarget(target) {
  const installed = output('rustup', ['target', 'list', '--installed']) ?? '';
  if (!installed.split('\n').includes(target)) {
    run('rustup', ['target', 'add', target]);
  }
}
