import { spawn } from 'node:child_process';
import { constants } from 'node:os';
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
 * The tool runs under a small `sh` that is the leader of a new process group and holds the read
 * end of a pipe (its stdin) whose write end only this process holds. If this process dies in any
 * way — SIGKILL and OOM included, when no JavaScript runs to clean up — the pipe reaches EOF and
 * the watcher kills the whole group. Otherwise `sh` waits for the tool and exits with its status
 * (128 + n when the tool died of signal n). On SIGTERM (an abort) it kills the tool and the
 * watcher and reaps them before exiting, so nothing is left as an orphan for an init process to
 * reap (some container inits never do).
 */
const LIFELINE_SCRIPT = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- & tool=$!',
  '(read -r _ <&3; kill -9 0) & watcher=$!',
  'exec 3<&-',
  'trap \'kill -9 "$tool" 2>/dev/null; kill "$watcher" 2>/dev/null; wait; exit 137\' TERM',
  'wait "$tool"; status=$?',
  'kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** After an abort, how long the wrapper gets to kill and reap before the whole group is SIGKILLed. */
const ABORT_REAP_GRACE_MS = 1000;

/**
 * Runs a media tool to completion.
 *
 * The tool runs in a process group of its own under a wrapper (see LIFELINE_SCRIPT), so that it
 * cannot outlive this process, and so that an abort takes down the tool at once (SIGKILL from the
 * wrapper; the whole group is SIGKILLed if the wrapper has not exited a second later). SIGKILL, not SIGTERM: ffmpeg answers
 * SIGTERM by finishing the file it is writing, which is exactly the work a cancel should stop.
 * The returned promise settles only after the child has exited, so a caller that awaits it knows
 * no process is left.
 */
export function runProcess(command: string, args: string[], options: RunProcessOptions): Promise<{ stderr: string }> {
  throwIfAborted(options.signal);
  const { signal } = options;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', LIFELINE_SCRIPT, 'sh', command, ...args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    // Never written to: its only job is to close when this process dies.
    child.stdin.on('error', () => undefined);
    let stderr = '';
    let stdoutRest = '';
    let settled = false;
    let exited = false;

    let forceTimer: NodeJS.Timeout | undefined;
    const killGroup = () => {
      // Once the leader has exited and been reaped its pid may be reused; never signal it then.
      if (exited || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const abort = () => {
      if (exited || child.pid === undefined) return;
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        return;
      }
      forceTimer = setTimeout(killGroup, ABORT_REAP_GRACE_MS);
      forceTimer.unref();
    };
    signal.addEventListener('abort', abort, { once: true });
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
      signal.removeEventListener('abort', abort);
      clearTimeout(forceTimer);
      if (error) reject(error);
      else resolve({ stderr });
    };

    child.once('exit', () => {
      exited = true;
      clearTimeout(forceTimer);
    });
    const notInstalled = () => {
      const pkg = DEBIAN_PACKAGES[command] ?? command;
      return new RenderError(
        'render_failed',
        `${command} is not installed on this worker; install it with: apt-get install ffmpeg espeak-ng (Debian package "${pkg}")`,
        { details: { missing: command, install: 'apt-get install ffmpeg espeak-ng' } },
      );
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      killGroup();
      finish(new RenderError('render_failed', `${command} could not be started: ${err.message}`, { retryable: true }));
    });
    // 'close' comes after the exit and after stdout/stderr are drained.
    child.once('close', (exitCode, exitSignal) => {
      if (options.onStdoutLine && stdoutRest) options.onStdoutLine(stdoutRest);
      if (signal.aborted) return finish(signal.reason ?? new Error('aborted'));
      if (exitCode === 0) return finish(undefined);
      // The wrapper's shell reports a missing command as 127, and a tool killed by signal n as 128 + n.
      if (exitCode === 127 && /not found/.test(stderr)) return finish(notInstalled());
      if (exitSignal === null && exitCode !== null && exitCode > 128 && exitCode < 160) {
        exitSignal = (signalName(exitCode - 128) ?? `signal ${exitCode - 128}`) as NodeJS.Signals;
      }
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

function signalName(n: number): string | undefined {
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
}
