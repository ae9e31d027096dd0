/**
 * Structured logging (pino) to stderr, so stdout stays clean for `--json` output. Secrets are redacted by key
 * wherever they appear in a logged object.
 */
import { destination, type Logger, pino } from 'pino';

export type { Logger };

const REDACT = [
  'apiKey',
  'apiSecret',
  'apiPassphrase',
  'privateKey',
  'secret',
  'passphrase',
  'token',
  'password',
  'authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["KALSHI-ACCESS-SIGNATURE"]',
  '*.apiKey',
  '*.apiSecret',
  '*.apiPassphrase',
  '*.privateKey',
  '*.secret',
  '*.token',
  '*.password',
  '*.userKey',
  '*.apiToken',
  '*.controlToken',
];

/** `file`: append there instead of stderr (`pm-arb run` on a terminal, where stderr holds the live summary). */
export function createLogger(level: string = 'info', name = 'pm-arb', file?: string): Logger {
  return pino(
    {
      name,
      level,
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    destination(file ? { dest: file, sync: true, mkdir: true, append: true } : { dest: 2, sync: true }),
  );
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
