import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { constants } from 'node:os';

const ROOT = join(__dirname, '..', '..', '..', '..');

export interface ManagedProcess {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code, or the signal name when killed by one. */
  exited: Promise<number | string>;
  /** Resolves when the output matches `pattern`; rejects when the process exits first or on timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Runs a TypeScript entry point as a real child process, for tests that kill and restart services
 * (optionally at a named crash point: pass VTV_FAULT_POINTS in env).
 *
 * The process is node itself with tsx's loader (`node --import tsx`), not the `tsx` command: that one
 * is a wrapper process that relays signals with 30 ms deadlines (a child slow to acknowledge SIGTERM on
 * a loaded machine gets SIGKILL instead of draining), and a SIGKILL sent to the wrapper leaves the
 * service running as an orphan. Signals sent here reach the service directly.
 */
export function spawnTs(entry: string, env: NodeJS.ProcessEnv): ManagedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // A process may also report a signal as exit code 128 + n; report the signal's name either way.
  const signalName = (code: number) =>
    Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) =>
      resolve(signal ?? (code !== null && code > 128 ? (signalName(code) ?? code) : (code ?? -1))),
    ),
  );
  return {
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => child.kill(signal),
    waitFor: (pattern, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${out.slice(-2000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((how) => {
          if (!pattern.test(out)) {
            cleanup();
            reject(new Error(`process exited (${how}) before ${pattern}; output:\n${out.slice(-2000)}`));
          }
        });
        check();
      }),
  };
}
