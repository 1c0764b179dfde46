import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { ensureDashboardClientBuilt } from '../services/http/dashboard/client-build.js';
import { launchBrowser } from './browser.js';
import { ScriptedQueen } from './scripted-queen.js';

/** What one dashboard browser test works with; the fields are fresh for every test. */
export interface DashboardSession {
  queen: ScriptedQueen;
  /** The scripted queen's address. */
  base: string;
  page: Page;
  /** Page errors and console errors or warnings (a content security policy violation is one). */
  readonly pageErrors: string[];
}

/**
 * Registers the hooks of a dashboard browser test file: one Chromium for the file, and for each test a scripted
 * queen and a 1440×900 page, closed after it.
 */
export function dashboardSession(): DashboardSession {
  let browser: Browser | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  const session: Partial<Pick<DashboardSession, 'queen' | 'base' | 'page'>> = {};
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureDashboardClientBuilt();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    if (!browser) throw new Error('Chromium did not start');
    const queen = new ScriptedQueen();
    session.base = await queen.listen();
    session.queen = queen;
    cleanups.push(() => queen.close());
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    session.page = page;
    cleanups.push(() => page.close());
    pageErrors.length = 0;
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // A stream a test cuts on purpose is reported as a failed resource load; anything else counts.
      const droppedStream = message.text().startsWith('Failed to load resource: net::ERR_INCOMPLETE_CHUNKED_ENCODING');
      if ((message.type() === 'error' || message.type() === 'warning') && !droppedStream)
        pageErrors.push(message.text());
    });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const field = <K extends 'queen' | 'base' | 'page'>(key: K): DashboardSession[K] => {
    const value = session[key];
    if (value === undefined) throw new Error(`the dashboard session's ${key} is read outside a test`);
    return value;
  };
  return {
    get queen() {
      return field('queen');
    },
    get base() {
      return field('base');
    },
    get page() {
      return field('page');
    },
    pageErrors,
  };
}

// biome-ignore lint/performance/useDomNodeTextContent: the rendered text a reader sees (hidden parts excluded) is what is checked.
export const text = (page: Page, selector: string): Promise<string> => page.locator(selector).innerText();
export const hiveCard = (id: string): string => `[data-testid="hive"][data-hive-id="${id}"]`;
