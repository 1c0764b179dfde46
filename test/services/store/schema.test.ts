import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { EventQuery } from '../../../contracts/events.js';
import { MIGRATIONS } from '../../../services/store/schema.js';
import { openSqliteStore } from '../../../services/store/sqlite-store.js';

const NOW = '2026-01-01T00:00:00.000Z';
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

  it.each(['ASC', 'DESC'])(
    'pages one kind of events in seq order (%s) through its index, with no sort of the history',
    async (order) => {
      const store = openSqliteStore(dir);
      await store.close();
      const db = new Database(path.join(dir, 'queen.db'), { readonly: true });
      try {
        const plan = db
          .prepare<[], { detail: string }>(
            `EXPLAIN QUERY PLAN SELECT seq, event FROM events WHERE seq > 0 AND kind = 'hive' ORDER BY seq ${order} LIMIT 10`,
          )
          .all()
          .map((row) => row.detail)
          .join('; ');
        expect(plan).toContain('events_by_kind');
        expect(plan).not.toContain('TEMP B-TREE');
      } finally {
        db.close();
      }
    },
  );

  it('gives the events kept before the hive column their hive: a hive’s own, and a kept worker’s', async () => {
    const older = mkdtempSync(path.join(dir, 'v3-'));
    const db = new Database(path.join(older, 'queen.db'));
    for (const sql of MIGRATIONS.slice(0, 3)) db.exec(sql);
    db.pragma('user_version = 3');
    db.prepare("INSERT INTO workers (id, hive_id, record) VALUES ('gpu-a-9001', 'gpu-a', '{}')").run();
    const add = db.prepare<[string, string, string]>('INSERT INTO events (time, kind, id, event) VALUES (0, ?, ?, ?)');
    const kept = [
      { kind: 'hive', id: 'gpu-a' },
      { kind: 'worker', id: 'gpu-a-9001' },
      { kind: 'worker', id: 'gone-9002' },
      { kind: 'hive', id: 'gpu-b' },
    ];
    for (const { kind, id } of kept) add.run(kind, id, JSON.stringify({ time: NOW, kind, id, type: 'registered' }));
    db.close();
    const store = openSqliteStore(older);
    try {
      const page = await store.events(EventQuery.parse({ hive: 'gpu-a' }));
      expect(page.events.map((event) => `${event.kind} ${event.id}`)).toEqual(['hive gpu-a', 'worker gpu-a-9001']);
    } finally {
      await store.close();
    }
  });
});
