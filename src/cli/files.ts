/**
 * Files the user names on the command line, checked before any work starts, so every mistake gets the same kind
 * of answer (what was wrong, what to do; an InputError, exit code 2) instead of a raw ENOENT / EISDIR / EACCES or
 * a silent success on nothing:
 *
 *   requireCapture(path, '--capture')   exists, is a file, is readable, holds at least one capture frame
 *   requireWritable(path, '--out')      its directory exists or can be made, and the file can be written
 *   requireDataDir(config)              DATA_DIR is a directory this process can write (made if missing)
 *   requireNewStoreDir(dir, '--store-dir')  a directory this process can write, without a store in it yet
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseCaptureLine } from '../capture/reader.ts';
import { type Config, ConfigError } from '../core/config.ts';
import { InputError } from './main.ts';

const why = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return e.message ?? String(err);
  }
};

/** How much of a capture is looked at for a first frame (a capture's lines are a few hundred bytes to a few KB). */
const PROBE_BYTES = 4 * 1024 * 1024;

/**
 * A capture file the command can read: present, a regular file, readable, not empty, and with a capture frame
 * among its first lines (a file of garbage is an error, not "0 frames replayed").
 */
export function requireCapture(
  path: string,
  what: string,
  hint = `write one with: pm-arb simulate --out ${path}`,
): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new InputError(
      `${what} ${path}: ${why(err)}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? ` (${hint})` : ''}`,
    );
  }
  if (st.isDirectory()) throw new InputError(`${what} ${path}: is a directory; give a capture file (.jsonl)`);
  if (!st.isFile()) throw new InputError(`${what} ${path}: not a regular file; give a capture file (.jsonl)`);
  if (st.size === 0) throw new InputError(`${what} ${path}: the file is empty (${hint})`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(`${what} ${path}: cannot read it: ${why(err)}`);
  }
  try {
    const buf = Buffer.alloc(Math.min(PROBE_BYTES, st.size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const lines = text.split('\n');
    if (n < st.size) lines.pop(); // the last line may be cut by the probe
    let firstBad: string | undefined;
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const r = parseCaptureLine(line);
      if (!('error' in r)) return;
      firstBad ??= `line ${i + 1}: ${r.error}`;
    }
    throw new InputError(
      `${what} ${path}: not a capture: no line ${n < st.size ? `in its first ${Math.round(n / 1024)} KB ` : ''}is a ` +
        `capture frame (a JSON object with ts, source and data per line; ${firstBad ?? 'only blank lines'})`,
    );
  } finally {
    closeSync(fd);
  }
}

/** Makes the missing directories of `dir` one level at a time (a recursive mkdir can spin on /proc). */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if (!statSync(d).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.unshift(d);
      if (dirname(d) === d) break;
    }
  }
  for (const d of missing) mkdirSync(d);
}

/** An output file the command can write: its directory is made if missing, the file opened for appending. */
export function requireWritable(path: string, what: string): void {
  try {
    if (statSync(path).isDirectory())
      throw new InputError(`${what} ${path}: is a directory; give a file name`);
  } catch (err) {
    if (err instanceof InputError) throw err;
  }
  try {
    makeDirs(dirname(resolve(path)));
    closeSync(openSync(path, 'a'));
  } catch (err) {
    throw new InputError(
      `${what} ${path}: cannot write there: ${why(err)}; choose a file in a directory you can write`,
    );
  }
}

/** DATA_DIR as a directory this process can write (made if missing); a ConfigError (exit 2) otherwise. */
export function requireDataDir(config: Config): string {
  const dir = resolve(config.dataDir);
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK | constants.R_OK);
  } catch (err) {
    throw new ConfigError(
      `DATA_DIR=${config.dataDir} (${dir}) cannot be used: ${why(err)}. Set DATA_DIR to a directory this user can write`,
    );
  }
  return dir;
}

/**
 * A directory for a store of its own (`backtest --store-dir`): made if missing, writable, and without a store in it
 * yet, so one run's rows are never mixed with another's (nor with a live store).
 */
export function requireNewStoreDir(dir: string, what: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'pglite')))
    throw new InputError(
      `${what} ${dir}: already holds a store (${join(abs, 'pglite')}); give a new directory, or delete that one`,
    );
  try {
    makeDirs(abs);
    accessSync(abs, constants.W_OK | constants.R_OK);
  } catch (err) {
    throw new InputError(`${what} ${dir}: cannot be used: ${why(err)}; choose a directory you can write`);
  }
  return abs;
}
