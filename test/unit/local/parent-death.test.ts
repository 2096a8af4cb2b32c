import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stoppedWithThisProcess } from '../../../local/parent-death.js';

/** A `setpriv` stand-in: `script` is its shell body. */
async function fakeSetpriv(dir: string, script: string): Promise<void> {
  const file = join(dir, 'setpriv');
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, 0o755);
}

describe('stoppedWithThisProcess', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parent-death-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    // util-linux before 2.33 (Amazon Linux 2, RHEL 8) and BusyBox: a setpriv that has no --pdeathsig.
    ['has no --pdeathsig', 'case "$1" in --pdeathsig) echo "unrecognized option" >&2; exit 1;; esac; exit 0', false],
    ['sets it and runs the command', 'shift 3; exec "$@"', true],
  ])('should guard the command with setpriv only when a setpriv %s', async (_, script, guarded) => {
    // Prepare
    await fakeSetpriv(dir, script);
    const env = { PATH: `${dir}:/bin` };

    // Act
    const [command, args] = stoppedWithThisProcess('java', ['-jar', 'x.jar'], env);

    // Assess
    expect([command, args]).toEqual(
      guarded ? ['setpriv', ['--pdeathsig', 'TERM', '--', 'java', '-jar', 'x.jar']] : ['java', ['-jar', 'x.jar']],
    );
  });

  it('should run the command as is when no setpriv is on PATH', () => {
    // Prepare
    const env = { PATH: dir };

    // Act
    const [command, args] = stoppedWithThisProcess('java', ['-version'], env);

    // Assess
    expect([command, args]).toEqual(['java', ['-version']]);
  });
});
