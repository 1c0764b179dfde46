import { Hono } from 'hono';
import { QUEEN_PATHS } from '../../../contracts/paths.js';
import { CLIENT_ENTRY, type ClientAssets, defaultClientDir, loadClientAssets } from './client-assets.js';
import { DASHBOARD_ASSET_PREFIX, renderDashboardPage } from './page.js';

export interface DashboardOptions {
  /** Directory of the compiled browser modules; defaults to `dist/dashboard`. */
  readonly clientDir?: string;
}

const NO_CACHE = { 'cache-control': 'no-cache' };

/** The dashboard routes the queen mounts at `/`: the page and its compiled browser modules, read once. */
export function createDashboardApp(options: DashboardOptions = {}): Hono {
  const assets: ClientAssets = loadClientAssets(options.clientDir ?? defaultClientDir());
  const notBuilt = (reason: string): Response =>
    new Response(`The dashboard's browser code is not built (${reason}): run npm run build.\n`, {
      status: 500,
      headers: { ...NO_CACHE, 'content-type': 'text/plain; charset=utf-8' },
    });
  const moduleNames = assets.built ? [...assets.files.keys()].filter((name) => name.endsWith('.js')) : [];

  const app = new Hono();
  app.get(QUEEN_PATHS.dashboard, (c) => {
    if (!assets.built) return notBuilt(assets.reason);
    const page = renderDashboardPage(
      { names: moduleNames, entry: CLIENT_ENTRY, imports: assets.imports, css: assets.css },
      c.req.query('token'),
    );
    return c.html(page.html, 200, {
      ...NO_CACHE,
      'content-security-policy': page.contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
    });
  });
  app.get(`${DASHBOARD_ASSET_PREFIX}:file`, (c) => {
    if (!assets.built) return notBuilt(assets.reason);
    const asset = assets.files.get(c.req.param('file'));
    if (!asset) return c.text('Not found\n', 404, NO_CACHE);
    return c.body(asset.body, 200, {
      ...NO_CACHE,
      'content-type': asset.contentType,
      'x-content-type-options': 'nosniff',
    });
  });
  return app;
}
