import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The module the page loads first; the others are imported from it. */
export const CLIENT_ENTRY = 'app.js';

export interface ClientAsset {
  readonly body: string;
  readonly contentType: string;
}

export type ClientAssets =
  | {
      readonly built: true;
      readonly files: ReadonlyMap<string, ClientAsset>;
      /** What the browser code imports from outside its directory: the import map maps each to its file here. */
      readonly imports: ReadonlyMap<string, string>;
      /** The libraries' stylesheets, folded into the page's own. */
      readonly css: string;
    }
  | { readonly built: false; readonly reason: string };

const CONTENT_TYPES: ReadonlyArray<readonly [suffix: string, contentType: string]> = [
  ['.js.map', 'application/json; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
];
const JS_TYPE = 'text/javascript; charset=utf-8';

const require = createRequire(import.meta.url);

/**
 * Modules the browser imports from outside the client directory, served beside its own: uPlot from npm (a bare
 * specifier), and the zod-free contract module the client imports by a path that leaves /dashboard/.
 */
function importedModules(clientDir: string): { specifier: string; file: string; path: string }[] {
  return [
    { specifier: 'uplot', file: 'uplot.js', path: require.resolve('uplot/dist/uPlot.esm.js') },
    {
      specifier: '/contracts/metric-series.js',
      file: 'metric-series.js',
      path: join(clientDir, '..', 'contracts', 'metric-series.js'),
    },
  ];
}

/**
 * Where `tsc -p dashboard` puts the browser code: found from the package root, so it is the
 * same whether this module runs from `dist/` or from its TypeScript source under vitest.
 */
export function defaultClientDir(): string {
  return join(packageRoot(dirname(fileURLToPath(import.meta.url))), 'dist', 'dashboard');
}

/** Reads every compiled client module and the libraries it imports once; a missing file is reported, never thrown. */
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
  const imports = new Map<string, string>();
  for (const module of importedModules(dir)) {
    if (!existsSync(module.path)) return { built: false, reason: `${module.path} does not exist` };
    files.set(module.file, { body: readFileSync(module.path, 'utf8'), contentType: JS_TYPE });
    imports.set(module.specifier, module.file);
  }
  return { built: true, files, imports, css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') };
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
