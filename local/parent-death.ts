/**
 * Child processes that do not outlive their parent. A parent killed by SIGKILL (an IDE's stop
 * button, a killed test run) runs no `exit` handler, so only the kernel can stop its children:
 * util-linux `setpriv --pdeathsig` asks it to.
 */
import { spawnSync } from 'node:child_process';

/** The probe's answer per PATH: it spawns two processes, and every guarded spawn would repeat it. */
const probed = new Map<string, boolean>();

/**
 * True when `setpriv` on PATH can set a parent-death signal (Linux): tried for real, since a
 * `setpriv` without `--pdeathsig` (util-linux before 2.33, as on Amazon Linux 2 or RHEL 8; BusyBox)
 * would make every command run through it fail.
 */
function hasSetpriv(env: NodeJS.ProcessEnv): boolean {
  if (process.platform !== 'linux') return false;
  const path = env.PATH ?? '';
  let works = probed.get(path);
  if (works === undefined) {
    const probe = spawnSync('setpriv', ['--pdeathsig', 'TERM', '--', process.execPath, '--version'], {
      env,
      stdio: 'ignore',
      timeout: 10_000,
    });
    works = probe.status === 0;
    probed.set(path, works);
  }
  return works;
}

/**
 * `command args` run so that the kernel sends it SIGTERM when this process dies, however it dies
 * (Linux, with a `setpriv` that can, on the PATH of `env`, the environment it will run with);
 * elsewhere the command runs as is, guarded only by the caller's own `exit` handlers.
 */
export function stoppedWithThisProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): [string, string[]] {
  return hasSetpriv(env) ? ['setpriv', ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];
}
