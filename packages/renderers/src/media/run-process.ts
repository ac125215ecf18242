import { spawn } from 'node:child_process';
import { RenderError, throwIfAborted } from '../contract.js';

/** Where each media tool comes from on Debian/Ubuntu, for the "not installed" message. */
const DEBIAN_PACKAGES: Record<string, string> = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  'espeak-ng': 'espeak-ng',
};

export interface RunProcessOptions {
  /** Aborting kills the whole process group with SIGKILL; the promise settles once it has exited. */
  signal: AbortSignal;
  log?: (line: string) => void;
  /** Each complete line the process writes to stdout (ffmpeg `-progress pipe:1`, ffprobe JSON). */
  onStdoutLine?: (line: string) => void;
  /** Turns a non-zero exit into a more specific error (e.g. an unknown espeak-ng voice). */
  describeFailure?: (failure: { exitCode: number | null; stderr: string }) => RenderError | undefined;
}

const STDERR_TAIL_CHARS = 4000;

/**
 * Runs a media tool to completion.
 *
 * The child is spawned `detached`, which makes it the leader of a new process group, so that on
 * abort one `kill(-pgid, SIGKILL)` takes down the tool and anything it started (ffmpeg can run
 * helpers; a shell wrapper would be a second process). SIGKILL, not SIGTERM: ffmpeg answers
 * SIGTERM by finishing the file it is writing, which is exactly the work a cancel should stop.
 * The returned promise settles only after the child has exited, so a caller that awaits it knows
 * no process is left.
 */
export function runProcess(command: string, args: string[], options: RunProcessOptions): Promise<{ stderr: string }> {
  throwIfAborted(options.signal);
  const { signal } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdoutRest = '';
    let settled = false;
    let exited = false;

    const killGroup = () => {
      // Once the leader has exited and been reaped its pid may be reused; never signal it then.
      if (exited || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    signal.addEventListener('abort', killGroup, { once: true });
    if (child.pid !== undefined) options.log?.(`spawned ${command} (pid ${child.pid}, process group ${child.pid})`);

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (!options.onStdoutLine) return;
      const lines = (stdoutRest + chunk).split('\n');
      stdoutRest = lines.pop() ?? '';
      for (const line of lines) options.onStdoutLine(line);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });

    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', killGroup);
      if (error) reject(error);
      else resolve({ stderr });
    };

    child.once('exit', () => {
      exited = true;
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        const pkg = DEBIAN_PACKAGES[command] ?? command;
        finish(
          new RenderError(
            'render_failed',
            `${command} is not installed on this worker; install it with: apt-get install ffmpeg espeak-ng (Debian package "${pkg}")`,
            { details: { missing: command, install: 'apt-get install ffmpeg espeak-ng' } },
          ),
        );
      } else {
        killGroup();
        finish(new RenderError('render_failed', `${command} could not be started: ${err.message}`, { retryable: true }));
      }
    });
    // 'close' comes after the exit and after stdout/stderr are drained.
    child.once('close', (exitCode, exitSignal) => {
      if (options.onStdoutLine && stdoutRest) options.onStdoutLine(stdoutRest);
      if (signal.aborted) return finish(signal.reason ?? new Error('aborted'));
      if (exitCode === 0) return finish(undefined);
      const specific = options.describeFailure?.({ exitCode, stderr });
      if (specific) return finish(specific);
      const lastLines = stderr.trim().split('\n').slice(-3).join(' | ');
      finish(
        new RenderError(
          'render_failed',
          `${command} failed (${exitSignal ? `killed by ${exitSignal}` : `exit code ${exitCode}`}): ${lastLines || 'no output'}`,
          // A tool killed from outside (OOM killer) may well succeed next time; a non-zero exit on
          // the same input will not.
          { retryable: exitSignal !== null, details: { command, exitCode, signal: exitSignal, stderr } },
        ),
      );
    });
  });
}
