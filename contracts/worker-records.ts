import { z } from 'zod';
import { HttpUrl, Id, NonNegativeInt } from './common.js';
import { HiveWorker } from './hive-api.js';

/** One worker a hive runs, as the hive keeps it on disk so that its next start can adopt the worker. */
export const WorkerRecord = HiveWorker.extend({
  queen_url: HttpUrl,
  worker_url: HttpUrl,
  /** Epoch milliseconds of the worker's start. */
  started_at: NonNegativeInt,
});
export type WorkerRecord = z.infer<typeof WorkerRecord>;

/** `workers.json` in the hive's state directory. */
export const WorkerRecords = z.object({ hive_id: Id, workers: z.array(WorkerRecord) });
export type WorkerRecords = z.infer<typeof WorkerRecords>;
