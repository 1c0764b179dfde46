import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EventPage, EventQuery, HistoryEvent } from '../../contracts/events.js';
import type { SeriesKey } from '../../contracts/metric-series.js';
import { eventHive, pageOf } from './event-query.js';
import type { MetricsStore, MinuteRow } from './metrics-store.js';
import { openProblemsText, parseOpenProblems } from './open-problems.js';
import { MIGRATIONS } from './schema.js';
import {
  type HiveRecord,
  type NewEvent,
  type StateBatch,
  type StateStore,
  StateStoreError,
  type StoredState,
  type WorkerRecord,
} from './state-store.js';

/**
 * The queen's state and metrics archive in SQLite (`queen.db` in the state directory, WAL mode), or in memory for
 * `--state-dir none`.
 * The database is locked exclusively for the process's life, so a second queen on the same directory fails at once.
 */

export const DB_FILE = 'queen.db';

export function openSqliteStore(dir: string | null): StateStore & MetricsStore {
  const file = dir === null ? ':memory:' : path.join(dir, DB_FILE);
  let db: Database.Database;
  try {
    if (dir !== null) mkdirSync(dir, { recursive: true });
    // No busy wait: another queen holding the lock is an error now, not in five seconds.
    db = new Database(file, { timeout: 0 });
  } catch (error) {
    throw stateError(file, error);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('synchronous = NORMAL');
    migrate(db);
    // A history kept nowhere numbers on past any number an earlier queen gave (microseconds since the epoch: only a
    // million events a second, sustained, would catch up), so a client reading on with a cursor misses nothing.
    if (dir === null) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)").run(Date.now() * 1000);
    // Takes the exclusive lock now rather than at the first batch.
    db.exec('BEGIN IMMEDIATE; COMMIT;');
  } catch (error) {
    db.close();
    throw stateError(file, error);
  }
  return sqliteStore(db, dir === null ? null : file);
}

function migrate(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > MIGRATIONS.length) {
    throw new Error(`schema version ${version} is newer than this queen knows (${MIGRATIONS.length})`);
  }
  MIGRATIONS.slice(version).forEach((sql, index) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + index + 1}`);
    })();
  });
}

/** One line an operator can act on, from SQLite's or the file system's error. */
function stateError(file: string, error: unknown): StateStoreError {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : String(error);
  const why =
    code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED'
      ? 'it is locked by another process (is another queen running on this --state-dir?)'
      : code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
        ? 'it is not a valid database (corrupt?): move it away to start afresh'
        : code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS'
          ? 'it cannot be written (read-only directory or disk?)'
          : 'it cannot be used';
  return new StateStoreError(`state database ${file}: ${why} (${message})`);
}

interface EventRow {
  seq: number;
  event: string;
}

interface MinuteRecord {
  minute: number;
  last: number;
  series: string;
}

function sqliteStore(db: Database.Database, file: string | null): StateStore & MetricsStore {
  const putHive = db.prepare<[string, string]>('INSERT OR REPLACE INTO hives (id, record) VALUES (?, ?)');
  const putWorker = db.prepare<[string, string, string]>(
    'INSERT OR REPLACE INTO workers (id, hive_id, record) VALUES (?, ?, ?)',
  );
  const dropHive = db.prepare<[string]>('DELETE FROM hives WHERE id = ?');
  const dropWorker = db.prepare<[string]>('DELETE FROM workers WHERE id = ?');
  const addEvent = db.prepare<[number, string, string, string | null, string]>(
    'INSERT INTO events (time, kind, id, hive_id, event) VALUES (?, ?, ?, ?, ?)',
  );
  const prune = db.prepare<[number]>('DELETE FROM events WHERE time < ?');
  const putProblems = db.prepare<[string]>('INSERT OR REPLACE INTO open_problems (id, problems) VALUES (1, ?)');
  // In memory (`--state-dir none`) the entries and open problems would never be read back: only the history is kept,
  // and the queen does not write every heartbeated entry twice a second for nothing.
  const keepsEntries = file !== null;
  const write = db.transaction((batch: StateBatch) => {
    if (keepsEntries) {
      for (const hive of batch.hives) putHive.run(hive.id, JSON.stringify(hive));
      for (const worker of batch.workers) putWorker.run(worker.id, worker.heartbeat.hive_id, JSON.stringify(worker));
      for (const id of batch.removedHives) dropHive.run(id);
      for (const id of batch.removedWorkers) dropWorker.run(id);
      if (batch.problems !== null) putProblems.run(openProblemsText(batch.problems));
    }
    for (const event of batch.events) {
      addEvent.run(Date.parse(event.time), event.kind, event.id, eventHive(event) ?? null, JSON.stringify(event));
    }
  });

  const putMinute = db.prepare<[string, number, number, string]>(
    'INSERT OR IGNORE INTO metric_minutes (hive_id, minute, last, series) VALUES (?, ?, ?, ?)',
  );
  const dropMinutes = db.prepare<[string]>('DELETE FROM metric_minutes WHERE hive_id = ?');
  const pruneMinutes = db.prepare<[number]>('DELETE FROM metric_minutes WHERE minute < ?');
  const minutes = db.prepare<[string, number, number], MinuteRecord>(
    'SELECT minute, last, series FROM metric_minutes WHERE hive_id = ? AND minute >= ? AND last < ? ORDER BY minute',
  );
  const writeMinutes = db.transaction((rows: readonly MinuteRow[], forgotten: readonly string[]) => {
    for (const id of forgotten) dropMinutes.run(id);
    for (const row of rows) putMinute.run(row.hiveId, row.minute, row.last, JSON.stringify([...row.values]));
  });

  return {
    describe: () => ({ path: file, bytes: file === null ? 0 : sizeOf(file) }),
    load: async (): Promise<StoredState> => ({
      hives: db
        .prepare<[], { record: string }>('SELECT record FROM hives')
        .all()
        .map((row): HiveRecord => JSON.parse(row.record)),
      workers: db
        .prepare<[], { record: string }>('SELECT record FROM workers')
        .all()
        .map((row): WorkerRecord => JSON.parse(row.record)),
      problems: parseOpenProblems(
        db.prepare<[], { problems: string }>('SELECT problems FROM open_problems').get()?.problems,
      ),
    }),
    write: async (batch) => {
      write(batch);
    },
    events: async (query: EventQuery): Promise<EventPage> => {
      const where = ['seq > @after'];
      const params: Record<string, string | number> = { after: query.after, limit: query.limit + 1 };
      const take = (name: string, clause: string, value: string | number | undefined): void => {
        if (value === undefined) return;
        where.push(clause);
        params[name] = value;
      };
      take('before', 'seq < @before', query.before);
      take('kind', 'kind = @kind', query.kind);
      take('id', 'id = @id', query.id);
      take('hive', 'hive_id = @hive', query.hive);
      const order = query.order === 'newest' ? 'DESC' : 'ASC';
      const rows = db
        .prepare<Record<string, string | number>, EventRow>(
          `SELECT seq, event FROM events WHERE ${where.join(' AND ')} ORDER BY seq ${order} LIMIT @limit`,
        )
        .all(params);
      return pageOf(
        rows.map((row): HistoryEvent => ({ seq: row.seq, ...parseEvent(row.event) })),
        query.limit,
      );
    },
    prune: async (before) => prune.run(before).changes,
    writeMinutes: async (batch) => {
      writeMinutes(batch.rows, batch.forgotten);
    },
    minutes: async (hiveId, from, before) =>
      minutes.all(hiveId, from, before).map(
        (row): MinuteRow => ({
          hiveId,
          minute: row.minute,
          last: row.last,
          values: new Map(parseSeries(row.series)),
        }),
      ),
    pruneMinutes: async (before) => pruneMinutes.run(before).changes,
    close: async () => {
      db.close();
    },
  };
}

function parseEvent(text: string): NewEvent {
  return JSON.parse(text);
}

/** A row's means, kept as `[key, mean]` pairs. */
function parseSeries(text: string): [SeriesKey, number][] {
  return JSON.parse(text);
}

/** The database with its write-ahead log. */
function sizeOf(file: string): number {
  let bytes = 0;
  for (const part of [file, `${file}-wal`]) {
    try {
      bytes += statSync(part).size;
    } catch {
      // No log yet.
    }
  }
  return bytes;
}
