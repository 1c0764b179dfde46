import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEEN_PATHS } from '../../../../contracts/paths.js';
import { STREAM_EVENT_NAME } from '../../../../contracts/stream.js';
import { createDashboardApp } from '../../../../services/http/dashboard/index.js';
import { ensureDashboardClientBuilt } from './client-build.js';

let clientDir = '';
beforeAll(() => {
  clientDir = ensureDashboardClientBuilt();
});

function inlineContent(html: string, tag: string, type = ''): string | undefined {
  const open = type === '' ? `<${tag}>` : `<${tag} type="${type}">`;
  const start = html.indexOf(open);
  if (start < 0) return undefined;
  return html.slice(start + open.length, html.indexOf(`</${tag}>`, start));
}

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

describe('GET /', () => {
  it('serves the page shell referencing the entry module and the stream', async () => {
    const response = await createDashboardApp().request(QUEEN_PATHS.dashboard);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>');
    expect(html).toContain(`data-stream-path="${QUEEN_PATHS.stream}"`);
    expect(html).toContain(`data-stream-event="${STREAM_EVENT_NAME}"`);
    expect(html).toContain(`data-metrics-path="${QUEEN_PATHS.hiveMetrics}"`);
    // Every module but the entry is asked for at once, the libraries included, not found import by import.
    const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\/dashboard\/([^"]+)">/g)].map((m) => m[1]);
    const built = readdirSync(clientDir).filter((name) => name.endsWith('.js') && name !== 'app.js');
    expect(preloaded.sort()).toEqual([...built, 'uplot.js', 'metric-series.js'].sort());
    // Only what the client imports from outside its directory is mapped: uPlot, and the zod-free series module.
    expect(JSON.parse(inlineContent(html, 'script', 'importmap') ?? '')).toEqual({
      imports: { uplot: '/dashboard/uplot.js', '/contracts/metric-series.js': '/dashboard/metric-series.js' },
    });
  });

  it("allows exactly its inline stylesheet, uPlot's folded in, and its import map in the content security policy", async () => {
    const response = await createDashboardApp().request('/');
    const csp = response.headers.get('content-security-policy') ?? '';
    const html = await response.text();
    const style = inlineContent(html, 'style');
    expect(style).toContain('.u-wrap');
    expect(style).toContain('.hive-grid');
    expect(csp).toContain(`style-src ${cspHash(style ?? '')}`);
    expect(csp).toContain(`script-src 'self' ${cspHash(inlineContent(html, 'script', 'importmap') ?? '')}`);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
  });

  it('carries ?token= to every module, encoded, through an import map the policy allows', async () => {
    const response = await createDashboardApp().request(`/?token=${encodeURIComponent('s3"cr<et>&x')}`);
    const html = await response.text();
    const encoded = encodeURIComponent('s3"cr<et>&x');
    expect(html).toContain(`<script type="module" src="/dashboard/app.js?token=${encoded}"></script>`);
    expect(html).not.toContain('cr<et>');
    const importMap = inlineContent(html, 'script', 'importmap') ?? '';
    const parsed: unknown = JSON.parse(importMap);
    expect(parsed).toMatchObject({
      imports: {
        '/dashboard/store.js': `/dashboard/store.js?token=${encoded}`,
        uplot: `/dashboard/uplot.js?token=${encoded}`,
      },
    });
    expect(response.headers.get('content-security-policy')).toContain(`script-src 'self' ${cspHash(importMap)}`);
  });
});

describe('GET /dashboard/:file', () => {
  it('serves the compiled entry module as JavaScript, uncached', async () => {
    const response = await createDashboardApp().request('/dashboard/app.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const body = await response.text();
    expect(body).toContain("from './store.js'");
    expect(body).toBe(readFileSync(join(clientDir, 'app.js'), 'utf8'));
  });

  it('serves uPlot from node_modules and the series module the client shares with the queen', async () => {
    const app = createDashboardApp();
    const uplot = await app.request('/dashboard/uplot.js');
    expect(uplot.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await uplot.text()).toContain('export { uPlot as default }');
    const series = await (await app.request('/dashboard/metric-series.js')).text();
    expect(series).toContain('export function monitorSeries');
    expect(series).not.toContain('import');
  });

  it('answers 404 for a file that is not a client module', async () => {
    const app = createDashboardApp();
    expect((await app.request('/dashboard/nope.js')).status).toBe(404);
    expect((await app.request('/dashboard/..%2Fpackage.json')).status).toBe(404);
  });
});

describe('compiled client', () => {
  it("imports only its sibling modules and the import map's two: no other bare specifier, no zod, no contracts", () => {
    const modules = readdirSync(clientDir).filter((name) => name.endsWith('.js'));
    expect(modules).toContain('app.js');
    for (const name of modules) {
      const source = readFileSync(join(clientDir, name), 'utf8');
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((match) => match[1]);
      for (const specifier of specifiers) {
        expect(specifier, `${name} imports ${specifier}`).toMatch(
          /^(\.\/[\w-]+\.js|uplot|\.\.\/contracts\/metric-series\.js)$/,
        );
      }
    }
  });
});

describe('without a build', () => {
  const emptyDir = mkdtempSync(join(tmpdir(), 'apiary-dashboard-'));
  afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

  it('answers 500 telling to build, for the page and the modules', async () => {
    const app = createDashboardApp({ clientDir: join(emptyDir, 'missing') });
    for (const path of ['/', '/dashboard/app.js']) {
      const response = await app.request(path);
      expect(response.status).toBe(500);
      expect(await response.text()).toContain('run npm run build');
    }
    const withoutEntry = await createDashboardApp({ clientDir: emptyDir }).request('/');
    expect(withoutEntry.status).toBe(500);
  });
});
