/**
 * The queen database's schema as numbered migrations: migration i (1-based) brings `user_version` from i - 1 to i.
 * Append only; never edit one that shipped.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE hives (id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE workers (id TEXT PRIMARY KEY, hive_id TEXT NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     time INTEGER NOT NULL,
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     event TEXT NOT NULL
   );
   CREATE INDEX events_by_entry ON events (kind, id, seq);
   CREATE INDEX events_by_time ON events (time);`,
  // `/v1/events?id=` without `kind` must not scan the history.
  'CREATE INDEX events_by_id ON events (id, seq);',
  // The per-minute metrics archive; `series` is a JSON object of the minute's means.
  `CREATE TABLE metric_minutes (
     hive_id TEXT NOT NULL,
     minute INTEGER NOT NULL,
     last INTEGER NOT NULL,
     series TEXT NOT NULL,
     PRIMARY KEY (hive_id, minute)
   ) WITHOUT ROWID;
   CREATE INDEX metric_minutes_by_minute ON metric_minutes (minute);`,
  // `/v1/events?hive=` takes a hive's workers' events too; older worker events get the hive of a worker still kept.
  `ALTER TABLE events ADD COLUMN hive_id TEXT;
   UPDATE events SET hive_id = CASE kind WHEN 'hive' THEN id
     ELSE (SELECT workers.hive_id FROM workers WHERE workers.id = events.id) END;
   CREATE INDEX events_by_hive ON events (hive_id, seq);`,
  // The alert problems whose `open` alert went out, all of them in one row: a restarted queen resolves them.
  'CREATE TABLE open_problems (id INTEGER PRIMARY KEY CHECK (id = 1), problems TEXT NOT NULL);',
  // `/v1/events?kind=` pages in seq order without reading the other kind's events or sorting the history.
  'CREATE INDEX events_by_kind ON events (kind, seq);',
];
