// The contenders of a benchmark run as child processes that print `READY …`
// once they listen and one JSON line with their figures at the end.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child<R = Record<string, unknown>> {
  /** Resolves with the last JSON line the child printed; rejects if it failed or printed none. */
  result: Promise<R>;
  /** Resolves with the first line starting with READY, or '' if the child ended without one. */
  ready: Promise<string>;
}

/** Starts `argv` in `cwd`; it is in `live` until it ends, and killed after `timeoutMs`. */
export function startChild<R>(argv: string[], what: string, options: { cwd: string; timeoutMs: number; live: Set<ChildProcess> }): Child<R> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  options.live.add(child);
  let stdout = '';
  let stderr = '';
  let onReady: (line: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const line = stdout.split('\n').find((l) => l.startsWith('READY'));
    if (line) onReady(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const result = new Promise<R>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.live.delete(child);
      const last = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || !last) reject(new Error(`${what} failed (${signal ?? `exit ${code}`}):\n${stderr.trim() || stdout.trim()}`));
      else resolve(JSON.parse(last) as R);
    });
  });
  result.catch(() => onReady('')); // a child that dies before READY
  return { result, ready };
}

/** The argv that runs the TypeScript `script` with `--name value` options. */
export function nodeChild(script: string, options: Record<string, string | number>): string[] {
  const flags = Object.entries(options).flatMap(([k, v]) => [`--${k}`, String(v)]);
  return [process.execPath, '--import', 'tsx', script, ...flags];
}
