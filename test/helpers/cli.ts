/**
 * The CLI in this process (the same `main` the binary runs), with stdout and stderr captured and the environment
 * set for the call only: for commands that finish by themselves, without a node start-up per case.
 */
import { main } from '../../src/cli/main.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function pmArbHere(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const saved = { ...process.env };
  Object.assign(process.env, { LOG_LEVEL: 'warn', ...env });
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.env = saved;
    process.exitCode = undefined;
  }
}
