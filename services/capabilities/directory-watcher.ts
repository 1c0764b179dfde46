import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';

/**
 * Watches a directory tree, one inotify watch per directory (Node 20's recursive `fs.watch` on Linux opens one per
 * file and walks the tree synchronously). Events carry no detail on purpose: the owner rescans, and tells the watcher
 * which directories the scan found. While the root is missing, its nearest existing ancestor is watched for it.
 */
export interface DirectoryWatcher {
  /** The directories to watch now, the root first; empty when the root is missing. Resolves once they are watched. */
  sync(directories: readonly string[]): Promise<void>;
  close(): void;
}

export function watchDirectories(root: string, onEvent: () => void, logger: Logger): DirectoryWatcher {
  const watchers = new Map<string, FSWatcher>();
  /** Set while the root is missing: the search for its ancestor, then the ancestor's watch. */
  let waiting: { watcher: FSWatcher | null } | null = null;
  let closed = false;
  let limitLogged = false;

  function open(directory: string, listener: (filename: string | null) => void): FSWatcher | null {
    try {
      const watcher = watch(directory, { persistent: false }, (_event, filename) => listener(filename));
      watcher.on('error', () => {
        watcher.close();
        if (watchers.get(directory) === watcher) watchers.delete(directory);
        onEvent();
      });
      return watcher;
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? error.code : undefined;
      if ((code === 'ENOSPC' || code === 'EMFILE') && !limitLogged) {
        limitLogged = true;
        logger.warn('cannot watch more directories: changes there show at the next rescan', { directory, code });
      }
      return null;
    }
  }

  function stopWaiting(): void {
    waiting?.watcher?.close();
    waiting = null;
  }

  async function waitForRoot(): Promise<void> {
    const token: { watcher: FSWatcher | null } = { watcher: null };
    waiting = token;
    let ancestor = path.dirname(root);
    while (!(await isDirectory(ancestor)) && path.dirname(ancestor) !== ancestor) ancestor = path.dirname(ancestor);
    if (closed || waiting !== token) return;
    const next = path.relative(ancestor, root).split(path.sep)[0];
    token.watcher = open(ancestor, (filename) => {
      if (filename !== null && filename !== next) return;
      stopWaiting();
      onEvent();
    });
    // The path down to the root may have grown while its ancestor was being looked for.
    if (waiting === token && next !== undefined && (await isDirectory(path.join(ancestor, next)))) {
      stopWaiting();
      onEvent();
    }
  }

  return {
    async sync(directories) {
      if (closed) return;
      const wanted = new Set(directories);
      for (const [directory, watcher] of watchers) {
        if (wanted.has(directory)) continue;
        watcher.close();
        watchers.delete(directory);
      }
      if (wanted.size === 0) {
        if (waiting === null) await waitForRoot();
        return;
      }
      stopWaiting();
      let added = false;
      for (const directory of wanted) {
        if (watchers.has(directory)) continue;
        const watcher = open(directory, () => onEvent());
        if (watcher === null) continue;
        watchers.set(directory, watcher);
        added = true;
      }
      // A file created in a new directory before its watch began would otherwise wait for the next event.
      if (added) onEvent();
    },
    close() {
      closed = true;
      stopWaiting();
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

async function isDirectory(directory: string): Promise<boolean> {
  try {
    return (await stat(directory)).isDirectory();
  } catch {
    return false;
  }
}
