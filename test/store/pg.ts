/** The PostgreSQL every store test uses (this machine and CI), and a unique schema per test run. */
import { randomBytes } from 'node:crypto';

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const testSchema = (what: string): string =>
  `t_${what}_${process.pid}_${randomBytes(4).toString('hex')}`;
