import type { EventPage } from '../../../../contracts/events.js';
import { isRecord } from './events.js';
import { tokenHeaders } from './page-token.js';

/** Events asked for at once: the history route's largest page. */
export const EVENTS_PAGE_LIMIT = 1000;

/** One page of the queen's history after `after`, of one hive or of everything; null when refused. */
export type EventsLoader = (after: number, hiveId: string | null) => Promise<EventPage | null>;

/**
 * Reads the queen's history route with the page's token. The queen builds the answer from its zod schema, so only
 * its shape is checked here.
 */
export function eventsLoader(path: string, pageUrl: string): EventsLoader {
  const headers = tokenHeaders(pageUrl);
  return async (after, hiveId) => {
    const url = new URL(path, pageUrl);
    url.searchParams.set('after', String(after));
    url.searchParams.set('limit', String(EVENTS_PAGE_LIMIT));
    if (hiveId !== null) {
      url.searchParams.set('kind', 'hive');
      url.searchParams.set('id', hiveId);
    }
    const response = await fetch(url, { headers });
    if (!response.ok) return null;
    const body: unknown = await response.json();
    return isEventPage(body) ? body : null;
  };
}

function isEventPage(value: unknown): value is EventPage {
  if (!isRecord(value) || !Array.isArray(value.events)) return false;
  return (value.next === null || typeof value.next === 'number') && value.events.every(isRecord);
}
