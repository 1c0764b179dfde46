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

const STYLE_HASH = sha256(DASHBOARD_CSS);

/**
 * The page shell; the client builds the rest. With a `?token=`, every module URL carries it too (an import map
 * covers the modules the entry imports), because the queen guards every route but /health with the token.
 */
export function renderDashboardPage(
  moduleNames: readonly string[],
  entry: string,
  token: string | undefined,
): RenderedPage {
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  const importMap =
    token === undefined
      ? null
      : JSON.stringify({
          imports: Object.fromEntries(
            moduleNames.map((name) => [`${DASHBOARD_ASSET_PREFIX}${name}`, `${DASHBOARD_ASSET_PREFIX}${name}${query}`]),
          ),
        }).replaceAll('<', '\\u003c');
  const scriptHashes = importMap === null ? '' : ` '${sha256(importMap)}'`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Apiary — cluster dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
${importMap === null ? '' : `<script type="importmap">${importMap}</script>\n`}<script type="module" src="${DASHBOARD_ASSET_PREFIX}${entry}${query}"></script>
</head>
<body data-stream-path="${QUEEN_PATHS.stream}" data-stream-event="${STREAM_EVENT_NAME}">
<p class="empty">Loading the dashboard…</p>
<noscript>The Apiary dashboard needs JavaScript; the same data is at ${QUEEN_PATHS.hives} and ${QUEEN_PATHS.workers}.</noscript>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'self'${scriptHashes}`,
    `style-src '${STYLE_HASH}'`,
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
