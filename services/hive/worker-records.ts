import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type WorkerRecord, WorkerRecords } from '../../contracts/worker-records.js';
import type { Logger } from '../logger.js';
import { parseJson } from '../parse-json.js';

/** The hive's record of the workers it runs (`workers.json` in its state directory), read again after a crash. */
export interface WorkerRecordStore {
  /** The workers recorded for `hiveId`; none when the file is missing, unreadable or another hive's. */
  load(): Promise<WorkerRecord[]>;
  /** Replaces the record; writes run one at a time, each one whole (written aside, then renamed). */
  save(workers: readonly WorkerRecord[]): Promise<void>;
}

export const WORKER_RECORDS_FILE = 'workers.json';

export function createWorkerRecordStore(stateDir: string, hiveId: string, logger: Logger): WorkerRecordStore {
  const file = path.join(stateDir, WORKER_RECORDS_FILE);
  let queue: Promise<void> = Promise.resolve();

  const write = async (workers: WorkerRecord[]): Promise<void> => {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const staged = `${file}.${process.pid}.tmp`;
    await writeFile(staged, JSON.stringify({ hive_id: hiveId, workers } satisfies WorkerRecords), { mode: 0o600 });
    await rename(staged, file);
  };

  return {
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        return [];
      }
      const parsed = parseJson(WorkerRecords, text);
      if (parsed.ok) return parsed.value.hive_id === hiveId ? parsed.value.workers : [];
      const problem = parsed.error.notJson ? 'worker records are not JSON' : 'worker records unreadable';
      logger.warn(`${problem}; adopting none`, { path: file });
      return [];
    },
    save(workers) {
      const snapshot = [...workers];
      queue = queue
        .then(() => write(snapshot))
        .catch((error: unknown) => logger.warn('writing the worker records failed', { path: file, error }));
      return queue;
    },
  };
}
