import { createHash } from 'node:crypto';
import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { STREAM_EVENT_NAME } from '../../../contracts/stream.js';
import { DASHBOARD_CSS } from './style.js';

/** Where the dashboard serves its compiled browser modules. */
export const DASHBOARD_ASSET_PREFIX = '/dashboard/';

export interface RenderedPage {
  readonly html: string;
  readonly contentSecurityPolicy: string;
}

export interface PageModules {
  /** The client's own modules, by file name. */
  readonly names: readonly string[];
  readonly entry: string;
  /** Specifiers the client imports from outside its directory, each mapped to a file served beside it. */
  readonly imports: ReadonlyMap<string, string>;
  /** The libraries' stylesheets, placed before the dashboard's own so that it wins. */
  readonly css: string;
}

/**
 * The page shell; the client builds the rest. The import map resolves the libraries the client imports; with a
 * `?token=`, it also carries the token to every module, because the queen guards every route but /health with it.
 */
export function renderDashboardPage(modules: PageModules, token: string | undefined): RenderedPage {
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  const asset = (name: string): string => `${DASHBOARD_ASSET_PREFIX}${name}${query}`;
  const own = token === undefined ? [] : modules.names.map((name) => [`${DASHBOARD_ASSET_PREFIX}${name}`, asset(name)]);
  const imported = [...modules.imports].map(([specifier, file]) => [specifier, asset(file)]);
  const importMap = JSON.stringify({ imports: Object.fromEntries([...own, ...imported]) }).replaceAll('<', '\\u003c');
  const css = `${modules.css}\n${DASHBOARD_CSS}`;
  // Every module is asked for at once: without this the browser finds the imports level by level, a round trip each.
  const preloads = [...new Set([...modules.names, ...modules.imports.values()])]
    .filter((name) => name !== modules.entry)
    .map((name) => `<link rel="modulepreload" href="${asset(name)}">\n`)
    .join('');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Apiary — cluster dashboard</title>
<link rel="icon" href="data:,">
<style>${css}</style>
<script type="importmap">${importMap}</script>
${preloads}<script type="module" src="${asset(modules.entry)}"></script>
</head>
<body data-stream-path="${QUEEN_PATHS.stream}" data-stream-event="${STREAM_EVENT_NAME}" data-metrics-path="${QUEEN_PATHS.hiveMetrics}" data-events-path="${QUEEN_PATHS.events}">
<p class="empty">Loading the dashboard…</p>
<noscript>The Apiary dashboard needs JavaScript; the same data is at ${QUEEN_PATHS.hives} and ${QUEEN_PATHS.workers}.</noscript>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'self' '${sha256(importMap)}'`,
    `style-src '${sha256(css)}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text).digest('base64')}`;
}
