import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtInWorkerTypes, packageVersion } from '../../../services/capabilities/built-in-workers.js';

const { version } = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')));

describe('builtInWorkerTypes', () => {
  it('is versioned as this package', () => {
    expect(packageVersion()).toBe(version);
  });

  it('has cpu always and cuda only with an NVIDIA GPU', () => {
    expect(builtInWorkerTypes(false)).toEqual([{ worker_type: 'cpu', version }]);
    expect(builtInWorkerTypes(true)).toEqual([
      { worker_type: 'cpu', version },
      { worker_type: 'cuda', version },
    ]);
  });
});
