import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, README_PATH, regenerateReadme, renderExample } from '../../scripts/docs-examples.ts';

describe('README examples (npm run docs:examples)', () => {
  it('the README shows what the documented commands print today', async () => {
    const readme = await readFile(README_PATH, 'utf8');
    const regenerated = await regenerateReadme(readme);
    // On failure: run `npm run docs:examples` and review the README diff.
    expect(regenerated).toBe(readme);
  }, 420_000);

  it('a command that ends with another exit code than the example expects fails the generation', async () => {
    await expect(
      renderExample({ name: 'bad', steps: [{ args: ['replay', 'no-such-capture.jsonl'] }] }),
    ).rejects.toThrow(/exited 2, expected 0/);
  }, 60_000);

  it('a marker without an example and an example without a marker are both errors', async () => {
    const one = EXAMPLES.slice(0, 1);
    await expect(regenerateReadme('<!-- example:nope -->\n<!-- /example -->\n', one)).rejects.toThrow(
      /example nope, which is not defined/,
    );
    await expect(regenerateReadme('no markers here\n', one)).rejects.toThrow(/has no <!-- example:/);
  });
});
