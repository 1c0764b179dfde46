import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The module the page loads first; the others are imported from it. */
export const CLIENT_ENTRY = 'app.js';

export interface ClientAsset {
  readonly body: string;
  readonly contentType: string;
}

export type ClientAssets =
  | { readonly built: true; readonly files: ReadonlyMap<string, ClientAsset> }
  | { readonly built: false; readonly reason: string };

const CONTENT_TYPES: ReadonlyArray<readonly [suffix: string, contentType: string]> = [
  ['.js.map', 'application/json; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
];

/**
 * Where `tsc -p services/http/dashboard/client` puts the browser code: found from the package root, so it is the
 * same whether this module runs from `dist/` or from its TypeScript source under vitest.
 */
export function defaultClientDir(): string {
  return join(packageRoot(dirname(fileURLToPath(import.meta.url))), 'dist', 'services', 'http', 'dashboard', 'client');
}

/** Reads every compiled client module once; a missing build is reported, never thrown. */
export function loadClientAssets(dir: string): ClientAssets {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { built: false, reason: `${dir} does not exist` };
  }
  const files = new Map<string, ClientAsset>();
  for (const name of names) {
    const contentType = CONTENT_TYPES.find(([suffix]) => name.endsWith(suffix))?.[1];
    if (contentType) files.set(name, { body: readFileSync(join(dir, name), 'utf8'), contentType });
  }
  if (!files.has(CLIENT_ENTRY)) return { built: false, reason: `${join(dir, CLIENT_ENTRY)} does not exist` };
  return { built: true, files };
}

/** The nearest directory at or above `start` holding a package.json. */
function packageRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
  return dir;
}
