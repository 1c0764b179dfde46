import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../services/store/schema.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'apiary-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('queen database schema', () => {
  it('migrates to the newest version, and finds one entry’s history by id alone without scanning it all', async () => {
    const store = openSqliteStore(dir);
    await store.close();
    const db = new Database(path.join(dir, 'queen.db'), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const plan = db
        .prepare<[], { detail: string }>(
          "EXPLAIN QUERY PLAN SELECT seq, event FROM events WHERE seq > 0 AND id = 'gpu-a' ORDER BY seq LIMIT 10",
        )
        .all()
        .map((row) => row.detail)
        .join('; ');
      expect(plan).toContain('events_by_id');
    } finally {
      db.close();
    }
  });
});
