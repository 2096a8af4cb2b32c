/**
 * Child processes that do not outlive their parent. A parent killed by SIGKILL (an IDE's stop
 * button, a killed test run) runs no `exit` handler, so only the kernel can stop its children:
 * util-linux `setpriv --pdeathsig` asks it to.
 */
import { spawnSync } from 'node:child_process';

/** True when util-linux `setpriv` can set a parent-death signal (Linux). */
function hasSetpriv(): boolean {
  if (process.platform !== 'linux') return false;
  return spawnSync('setpriv', ['--help'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/**
 * `command args` run so that the kernel sends it SIGTERM when this process dies, however it dies
 * (Linux, with `setpriv`); elsewhere the command runs as is, guarded only by the caller's own
 * `exit` handlers.
 */
export function stoppedWithThisProcess(command: string, args: string[]): [string, string[]] {
  return hasSetpriv() ? ['setpriv', ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];
}
