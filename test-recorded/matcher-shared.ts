/**
 * Where the recorded suite finds the data kept beside the repository: ../shared relative to the repository root
 * (CI lays it out that way). Only `npm run test:recorded` reads it; `npm test` never does.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared');

/** Path of a file under ../shared; throws, saying what is missing and where it was looked for, when absent. */
export function sharedFile(rel: string): string {
  const path = join(SHARED_DIR, rel);
  if (!existsSync(path)) {
    throw new Error(
      `${rel} not found: the recorded suite (npm run test:recorded) reads ../shared beside the repository, ` +
        `and ${existsSync(SHARED_DIR) ? `${SHARED_DIR} has no ${rel}` : `${SHARED_DIR} does not exist`}. ` +
        'Check out the shared data next to the repository (or run npm test, which needs none of it).',
    );
  }
  return path;
}
