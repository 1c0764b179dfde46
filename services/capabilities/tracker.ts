import type { Capabilities, CapabilityChanges, Device, Model, WorkerType } from '../../contracts/capabilities.js';
import { LIMITS } from '../../contracts/common.js';
import type { EngineSpec } from '../../contracts/engine.js';
import type { Logger } from '../logger.js';
import { runOnce } from '../run-once.js';
import { fitCapabilities } from './capability-budget.js';
import { diffCapabilities, hasChanges } from './capability-diff.js';
import { createChangeLog } from './change-log.js';
import { type ScannedFile, type ScanProblem, scanDirectory } from './directory-scan.js';
import { watchDirectories } from './directory-watcher.js';
import { isModelFile, modelOf } from './models.js';
import { isManifestFile, readManifest, type WorkerManifest } from './worker-manifests.js';

export interface CapabilityTrackerOptions {
  modelsDir: string;
  workersDir: string;
  devices: Device[];
  /** Worker types this hive has without a manifest; a manifest of the same type replaces one. */
  builtInWorkers: WorkerType[];
  /** Quiet time after the last file event before a rescan (default 300 ms). */
  debounceMs?: number;
  /** A file counts once it has stayed the same this long (default 2 s): a copy in progress is never announced. */
  settleMs?: number;
  logger: Logger;
}

export interface CapabilityTracker {
  /** Resolves when the first full scan is done and the watchers run. */
  start(): Promise<void>;
  stop(): void;
  /** The full set now. */
  current(): Capabilities;
  /** `capabilities_version`: 0 after the first scan, one more per batch of changes. */
  version(): number;
  /** Every change the queen has not acknowledged, merged to their net effect; null when there is none. */
  pending(): CapabilityChanges | null;
  /** The queen accepted a heartbeat that carried `version`: changes up to it are no longer pending. */
  acknowledge(version: number): void;
  /** Versions recorded since the last one the queen acknowledged. */
  unacknowledged(): number;
  /** The devices now (a GPU left the driver's answer or came back): a change like a model's. */
  setDevices(devices: Device[]): void;
  /** The engine a worker type starts; null for the built-in demo backend or an unknown type. */
  engine(workerType: string): EngineSpec | null;
  /** The file of a model found now (also one the cut left out: a spawn checks the capabilities first); else null. */
  modelPath(modelId: string): string | null;
  /** Called once per batch of changes, with its version; returns the unsubscribe. */
  onChange(listener: (version: number) => void): () => void;
}

/** What one scan found of one kind, keyed by file path, before it is settled. */
type Found<T> = Map<string, { file: ScannedFile; value: T | ScanProblem }>;

/**
 * docs/protocol.md: Where capabilities come from: the hive's capabilities, kept current by watching the models and workers directories. Events are
 * debounced into one rescan, and a file is only taken once it has stayed unchanged for `settleMs`, so a model being
 * copied becomes one `added` with its final size, however its copy pauses.
 */
export function createCapabilityTracker(options: CapabilityTrackerOptions): CapabilityTracker {
  const { logger, builtInWorkers } = options;
  let devices = options.devices;
  const debounceMs = options.debounceMs ?? 300;
  const settleMs = options.settleMs ?? 2_000;
  const listeners = new Set<(version: number) => void>();
  const modelsWatcher = watchDirectories(options.modelsDir, () => schedule(), logger);
  const workersWatcher = watchDirectories(options.workersDir, () => schedule(), logger);

  /** Everything found, before the cut that keeps what the hive sends within a queen's bound. */
  let found: Capabilities = { devices, models: [], workers: sortedWorkers(builtInWorkers) };
  let committed = found;
  let cut = false;
  let changeLog = createChangeLog(committed);
  let seenModels = new Map<string, Seen>();
  let seenManifests = new Map<string, Seen>();
  let heldModels = new Map<string, Model>();
  let heldManifests = new Map<string, WorkerManifest>();
  let engines = new Map<string, EngineSpec>();
  let modelPaths = new Map<string, string>();
  let reported = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let scanning = false;
  let again = false;
  let stopped = false;

  function schedule(delayMs = debounceMs): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void run(), delayMs);
  }

  /** One scan at a time: an event during a scan brings another after it. */
  async function run(initial = false): Promise<void> {
    if (scanning) {
      again = true;
      return;
    }
    scanning = true;
    try {
      await rescan(initial);
    } catch (error) {
      if (initial) throw error;
      logger.error('capability rescan failed', { error });
    } finally {
      scanning = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  }

  async function rescan(initial: boolean): Promise<void> {
    const [modelScan, manifestScan] = await Promise.all([
      scanDirectory(options.modelsDir, { recursive: true, accept: isModelFile }),
      scanDirectory(options.workersDir, { recursive: false, accept: isManifestFile }),
    ]);
    const manifests: Found<WorkerManifest> = new Map();
    await Promise.all(
      manifestScan.files.map(async (file) => {
        manifests.set(file.path, { file, value: await readManifest(file) });
      }),
    );
    if (stopped) return;
    const models: Found<Model> = new Map(modelScan.files.map((file) => [file.path, { file, value: modelOf(file) }]));
    const problems = [...modelScan.problems, ...manifestScan.problems];
    // What the first scan finds counts at once: it has been there since before this hive started.
    const now = initial ? -Infinity : performance.now();
    seenModels = sightings(models, seenModels, now);
    seenManifests = sightings(manifests, seenManifests, now);
    const modelsSettled = settle(models, seenModels, heldModels, now - settleMs, problems);
    const manifestsSettled = settle(manifests, seenManifests, heldManifests, now - settleMs, problems);
    heldModels = modelsSettled.held;
    heldManifests = manifestsSettled.held;

    const resolvedModels = resolveModels(heldModels, problems);
    const workers = resolveWorkers(heldManifests, builtInWorkers, problems);
    const next: Capabilities = {
      devices,
      models: resolvedModels.map(({ model }) => model),
      workers: workers.map(({ worker_type, version }) => ({ worker_type, version })),
    };
    reportProblems(problems);
    await Promise.all([
      modelsWatcher.sync(modelScan.directories),
      workersWatcher.sync(manifestScan.directories.slice(0, 1)),
    ]);
    if (stopped) return;

    modelPaths = new Map(resolvedModels.map(({ model, path }) => [model.model_id, path]));
    engines = new Map(workers.flatMap(({ worker_type, engine }) => (engine ? [[worker_type, engine]] : [])));
    if (initial) {
      committed = cutToBound(next);
      changeLog = createChangeLog(committed);
    } else commit(next);
    const unsettledSince = Math.min(modelsSettled.unsettledSince, manifestsSettled.unsettledSince);
    if (unsettledSince !== Infinity) schedule(Math.max(debounceMs, unsettledSince + settleMs - performance.now()));
  }

  function commit(next: Capabilities): void {
    const fitted = cutToBound(next);
    const changes = diffCapabilities(committed, fitted);
    committed = fitted;
    if (hasChanges(changes)) publish(changeLog.record(changes), changes);
  }

  /** The set cut to what a queen takes from one hive; a cut is logged once, when it begins. */
  function cutToBound(next: Capabilities): Capabilities {
    found = next;
    const { capabilities, leftOut } = fitCapabilities(next);
    const cutting = leftOut.models + leftOut.workers > 0;
    if (cutting && !cut) {
      logger.warn('capabilities cut to fit what a queen takes from one hive', {
        max_bytes: LIMITS.capabilityBytes,
        models: capabilities.models.length,
        models_left_out: leftOut.models,
        workers_left_out: leftOut.workers,
      });
    }
    cut = cutting;
    return capabilities;
  }

  function publish(version: number, changes: CapabilityChanges): void {
    logger.info('capabilities changed', {
      capabilities_version: version,
      devices: (changes.devices ?? []).map(({ action, id }) => `${action} ${id}`),
      models: changes.models.map(({ action, model_id }) => `${action} ${model_id}`),
      workers: changes.workers.map(({ action, worker_type }) => `${action} ${worker_type}`),
    });
    for (const listener of listeners) {
      try {
        listener(version);
      } catch (error) {
        logger.error('capability change listener failed', { error });
      }
    }
  }

  /** Logs each problem once while it lasts; one that goes away and comes back is logged again. */
  function reportProblems(problems: ScanProblem[]): void {
    const now = new Set<string>();
    for (const { path, problem } of problems) {
      const key = `${path}\n${problem}`;
      now.add(key);
      if (!reported.has(key)) logger.warn('skipped in capabilities', { path, problem });
    }
    reported = now;
  }

  return {
    start: runOnce(() => run(true)),
    stop() {
      stopped = true;
      clearTimeout(timer);
      modelsWatcher.close();
      workersWatcher.close();
    },
    current: () => committed,
    setDevices(next) {
      devices = next;
      if (!stopped) commit({ ...found, devices });
    },
    version: () => changeLog.version(),
    pending: () => changeLog.pending(committed),
    acknowledge: (version) => changeLog.acknowledge(version),
    unacknowledged: () => changeLog.unacknowledged(),
    engine: (workerType) => engines.get(workerType) ?? null,
    modelPath: (modelId) => modelPaths.get(modelId) ?? null,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A file's signature and since when it has had it (`performance.now()`). */
interface Seen {
  signature: string;
  since: number;
}

/** Each file's signature now, keeping the time it was first seen with it. */
function sightings<T>(found: Found<T>, before: ReadonlyMap<string, Seen>, now: number): Map<string, Seen> {
  return new Map(
    [...found].map(([path, { file }]) => {
      const previous = before.get(path);
      const since = previous?.signature === file.signature ? previous.since : now;
      return [path, { signature: file.signature, since }];
    }),
  );
}

/**
 * A file is taken once it is settled: unchanged since `settledBefore` or earlier. Until then the value held for it
 * stays, a new file stays out, and `unsettledSince` says from when the earliest unsettled one has been unchanged, so
 * the next scan can wait for it.
 */
function settle<T>(
  found: Found<T>,
  seen: ReadonlyMap<string, Seen>,
  held: ReadonlyMap<string, T>,
  settledBefore: number,
  problems: ScanProblem[],
): { held: Map<string, T>; unsettledSince: number } {
  const next = new Map<string, T>();
  let unsettledSince = Infinity;
  for (const [path, { value }] of found) {
    const since = seen.get(path)?.since ?? Infinity;
    if (since <= settledBefore) {
      if (isProblem(value)) problems.push(value);
      else next.set(path, value);
      continue;
    }
    unsettledSince = Math.min(unsettledSince, since);
    const previous = held.get(path);
    if (previous !== undefined) next.set(path, previous);
  }
  return { held: next, unsettledSince };
}

function isProblem<T>(value: T | ScanProblem): value is ScanProblem {
  return typeof value === 'object' && value !== null && 'problem' in value;
}

/** One model per id (the first path in order wins: `a.gguf` over `a.safetensors`), in id order. */
function resolveModels(held: ReadonlyMap<string, Model>, problems: ScanProblem[]): { model: Model; path: string }[] {
  const byId = new Map<string, { model: Model; path: string }>();
  for (const path of [...held.keys()].sort()) {
    const model = held.get(path);
    if (model === undefined) continue;
    if (byId.has(model.model_id)) problems.push({ path, problem: `another file is already model ${model.model_id}` });
    else byId.set(model.model_id, { model, path });
  }
  return [...byId.values()].sort((a, b) => compare(a.model.model_id, b.model.model_id));
}

/** Manifests in path order, the first of a type winning; built-in types fill in the rest; in type order. */
function resolveWorkers(
  held: ReadonlyMap<string, WorkerManifest>,
  builtIn: readonly WorkerType[],
  problems: ScanProblem[],
): WorkerManifest[] {
  const byType = new Map<string, WorkerManifest>();
  for (const path of [...held.keys()].sort()) {
    const worker = held.get(path);
    if (worker === undefined) continue;
    if (byType.has(worker.worker_type)) {
      problems.push({ path, problem: `another manifest already declares ${worker.worker_type}` });
    } else byType.set(worker.worker_type, worker);
  }
  for (const worker of builtIn) {
    if (!byType.has(worker.worker_type)) byType.set(worker.worker_type, { ...worker, engine: null });
  }
  return sortedWorkers([...byType.values()]);
}

function sortedWorkers<T extends WorkerType>(workers: readonly T[]): T[] {
  return [...workers].sort((a, b) => compare(a.worker_type, b.worker_type));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
