import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    // Tests wait on events with deadlines of their own; this only bounds a test that hangs. Real processes on two
    // cores shared with a second run start several times slower than on an idle machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Process-level tests start real roles on loopback ports; a few files at a time keeps 2 cores responsive.
    maxWorkers: 2,
    // A queen or hive a test forgot to give --state-dir keeps its state here, never in the user's home.
    env: { XDG_STATE_HOME: path.join(os.tmpdir(), `apiary-test-state-${process.pid}`) },
  },
});
