import type { EventOrder, EventPage } from '../contracts/events.js';
import { isRecord } from './events.js';
import { tokenHeaders } from './page-token.js';

/** One read of the history: of one hive (with its workers) or of everything, in an order, from a cursor. */
export interface EventsRequest {
  hiveId: string | null;
  order: EventOrder;
  after?: number;
  before?: number;
  limit: number;
}

/** One page of the queen's history; null when refused or unreadable. */
export type EventsLoader = (request: EventsRequest) => Promise<EventPage | null>;

/**
 * Reads the queen's history route with the page's token. The queen builds the answer from its zod schema, so only
 * its shape is checked here.
 */
export function eventsLoader(path: string, pageUrl: string): EventsLoader {
  const headers = tokenHeaders(pageUrl);
  return async (request) => {
    const url = new URL(path, pageUrl);
    url.searchParams.set('order', request.order);
    url.searchParams.set('limit', String(request.limit));
    if (request.after !== undefined) url.searchParams.set('after', String(request.after));
    if (request.before !== undefined) url.searchParams.set('before', String(request.before));
    if (request.hiveId !== null) url.searchParams.set('hive', request.hiveId);
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
