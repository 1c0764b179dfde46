import type { EventPage, EventQuery, HistoryEvent } from '../../contracts/events.js';

/**
 * What every history source shares about a query of `/v1/events`: which events its filters take, and how a page and
 * its cursor are cut from the events read in the query's order.
 */

type Filter = Pick<EventQuery, 'kind' | 'id' | 'hive'>;
type About = Pick<HistoryEvent, 'kind' | 'id' | 'hive_id'>;

/** The hive an event is about: the hive itself, or a worker's hive when the event names it. */
export function eventHive(event: About): string | undefined {
  return event.kind === 'hive' ? event.id : event.hive_id;
}

/** Whether the query's filters (not its cursors) take the event. */
export function matchesFilter(event: About, filter: Filter): boolean {
  return (
    (filter.kind === undefined || event.kind === filter.kind) &&
    (filter.id === undefined || event.id === filter.id) &&
    (filter.hive === undefined || eventHive(event) === filter.hive)
  );
}

/**
 * The page of up to `limit` + 1 taken events read in the query's order: the first `limit`, and the cursor of the
 * next page (the last one's seq, in either order) when there were more.
 */
export function pageOf(found: readonly HistoryEvent[], limit: number): EventPage {
  const events = found.slice(0, limit);
  return { events, next: found.length > limit ? (events.at(-1)?.seq ?? null) : null };
}

/** A page of a history held in memory, oldest first. */
export function pageOfHistory(history: readonly HistoryEvent[], query: EventQuery): EventPage {
  const inWindow = history.filter(
    (event) =>
      event.seq > query.after &&
      (query.before === undefined || event.seq < query.before) &&
      matchesFilter(event, query),
  );
  const ordered = query.order === 'newest' ? inWindow.reverse() : inWindow;
  return pageOf(ordered.slice(0, query.limit + 1), query.limit);
}
