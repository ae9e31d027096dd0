/**
 * Every mistake gets the same shape of answer: `pm-arb: what was wrong[: what to do]`, exit code 2 for usage and
 * input errors, 1 for runtime failures; a closed stdout ends the command quietly. One case per mistake.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/main.ts';
import { pmArbHere } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** One frame as `pm-arb simulate` writes them. */
const FRAME = '{"ts":1767225600000,"source":"binance.ws","data":{"e":"trade"}}';

describe('a capture the command cannot use (replay, backtest, matches --capture): exit 2 and what to do', () => {
  const cases: [string, () => string, RegExp][] = [
    [
      'missing',
      () => join(dir, 'nope.jsonl'),
      /: no such file or directory \(write one with: pm-arb simulate --out /,
    ],
    ['a directory', () => dir, /: is a directory; give a capture file \(\.jsonl\)/],
    ['empty', () => file('empty.jsonl', ''), /: the file is empty/],
    ['blank lines only', () => file('blank.jsonl', '\n\n  \n'), /not a capture: .*only blank lines/],
    [
      'random bytes',
      () => file('random.jsonl', Buffer.from([0, 1, 2, 255, 254, 10, 200, 13, 10])),
      /not a capture: .*line 1: invalid JSON/,
    ],
    [
      'JSON without ts/source/data',
      () => file('json.jsonl', '{"a":1}\n[1,2]\n'),
      /not a capture: .*line 1: missing or non-numeric ts/,
    ],
  ];
  for (const [what, path, message] of cases) {
    it(`${what}`, async () => {
      const p = path();
      for (const args of [
        ['replay', p],
        ['backtest', '--capture', p],
        ['matches', '--capture', p],
      ]) {
        const r = await pmArbHere(args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/^pm-arb: /);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/ENOENT|EISDIR|\n\s+at /);
      }
    });
  }

  it('a capture with a good frame after some bad lines is used', async () => {
    const p = file('mixed.jsonl', `garbage\n${FRAME}\n`);
    const r = await pmArbHere(['replay', p]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^replayed 1 frames/);
  });
});

describe('an output the command cannot write: exit 2', () => {
  it('simulate --out in a directory that cannot be made (answers at once, no hang)', async () => {
    const r = await pmArbHere(['simulate', '--out', '/proc/pm-arb-nope/x.jsonl', '--minutes', '0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'pm-arb: --out /proc/pm-arb-nope/x.jsonl: cannot write there: no such file or directory; choose a file in a directory you can write\n',
    );
  });

  it('backtest --store-dir that already holds a store (never mixes two runs)', async () => {
    const capture = file('one.jsonl', `${FRAME}\n`);
    const store = join(dir, 'kept');
    mkdirSync(join(store, 'pglite'), { recursive: true });
    const r = await pmArbHere(['backtest', '--capture', capture, '--store-dir', store]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pm-arb: --store-dir ${store}: already holds a store (${join(store, 'pglite')}); give a new directory, or delete that one\n`,
    );
  });

  it('simulate --out naming a directory', async () => {
    const r = await pmArbHere(['simulate', '--out', dir, '--minutes', '0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a directory; give a file name');
  });

  it('record --out under a file', async () => {
    const f = file('plain.txt', 'x');
    const r = await pmArbHere(['record', '--feeds', 'sim', '--out', join(f, 'x.jsonl'), '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot write there: a part of the path is a file, not a directory');
  });

  it('simulate --out in a directory still to be made works', async () => {
    const out = join(dir, 'new', 'deeper', 'sim.jsonl');
    const r = await pmArbHere(['simulate', '--out', out, '--minutes', '0.05', '--markets', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').length).toBeGreaterThan(0);
  });
});

describe('DATA_DIR and the database', () => {
  it('a DATA_DIR that is a file is a configuration error naming the setting (exit 2)', async () => {
    const f = file('not-a-dir', 'x');
    const r = await pmArbHere(['run', '--duration', '1s'], { DATA_DIR: f });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pm-arb: DATA_DIR=${f} (${f}) cannot be used: a part of the path is a file, not a directory. Set DATA_DIR to a directory this user can write\n`,
    );
  });

  it('db status where nothing ran says where it looked instead of creating an empty database (exit 1)', async () => {
    const where = join(dir, 'nothing-here');
    const r = await pmArbHere(['db', 'status'], { DATA_DIR: where });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pm-arb: no database in ${resolve(where, 'pglite')} (DATA_DIR)`);
    expect(r.stderr).toContain('`pm-arb db migrate` or `npm start` creates it');
    const again = await pmArbHere(['db', 'status'], { DATA_DIR: where });
    expect(again.code).toBe(1); // still nothing made there
  });

  it('a DATABASE_URL whose search_path names no schema: what to do, not the raw PostgreSQL message alone', async () => {
    const r = await pmArbHere(['db', 'migrate'], {
      DATABASE_URL:
        'postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dpm_arb_no_such_schema',
    });
    expect(r.code).toBe(1);
    // the line saying what it opens, then the error on a line of its own
    expect(r.stderr).toMatch(/^pm-arb db: opening PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:5432\/test/);
    expect(r.stderr).toMatch(
      /^pm-arb: the database has no schema to create tables in \(.*\): create the schema/m,
    );
  });
});

describe('the rest of the shape', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await pmArbHere([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
  });

  it('an unknown option is a usage error with the usage (exit 2)', async () => {
    const r = await pmArbHere(['trades', '--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--nope'");
    expect(r.stderr).toContain('usage: pm-arb trades');
  });

  it('describeError names the path and the reason of a file-system error', () => {
    const e = Object.assign(new Error('EACCES: permission denied, open'), {
      code: 'EACCES',
      syscall: 'open',
      path: '/x/y',
    });
    expect(describeError(e)).toBe('cannot open /x/y: permission denied');
    expect(describeError(new Error('plain'))).toBe('plain');
  });

  it('a closed stdout (| head -1) ends quietly: exit 0, no stack trace', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((done, fail) => {
      const child = spawn(process.execPath, [resolve('bin/pm-arb.js'), 'agent', '--help'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      // the reader goes away before the help is written, as `head -1` does after its line
      child.stdout.destroy();
      child.on('error', fail);
      child.on('close', (code) => done({ code, stderr }));
    });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.code).toBe(0);
  }, 60_000);
});
