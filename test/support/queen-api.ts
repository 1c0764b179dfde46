import { EventPage, type HistoryEvent } from '../../contracts/events.js';
import { QUEEN_PATHS, withId } from '../../contracts/paths.js';
import { HiveList, HiveView, QueenHealth, WorkerList, WorkerView } from '../../contracts/registry.js';

/** A running queen's HTTP API as the tests read it, every answer checked against the contract. */

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export class QueenApi {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  async hives(): Promise<HiveView[]> {
    return HiveList.parse(await this.json(QUEEN_PATHS.hives)).hives;
  }

  /** Undefined for an id the queen does not know (404). */
  async hive(id: string): Promise<HiveView | undefined> {
    const body = await this.json(withId(QUEEN_PATHS.hive, id), true);
    return body === undefined ? undefined : HiveView.parse(body);
  }

  async workers(): Promise<WorkerView[]> {
    return WorkerList.parse(await this.json(QUEEN_PATHS.workers)).workers;
  }

  async worker(id: string): Promise<WorkerView | undefined> {
    const body = await this.json(withId(QUEEN_PATHS.worker, id), true);
    return body === undefined ? undefined : WorkerView.parse(body);
  }

  async health(): Promise<QueenHealth> {
    return QueenHealth.parse(await this.json(QUEEN_PATHS.health));
  }

  /** The history of one hive (or worker), oldest first (up to 1000 events). */
  async history(id: string, kind: 'hive' | 'worker' = 'hive'): Promise<HistoryEvent[]> {
    const query = `?kind=${kind}&id=${encodeURIComponent(id)}&limit=1000`;
    return EventPage.parse(await this.json(`${QUEEN_PATHS.events}${query}`)).events;
  }

  /** The whole history, every hive's and worker's, oldest first (up to 1000 events). */
  async events(): Promise<HistoryEvent[]> {
    return EventPage.parse(await this.json(`${QUEEN_PATHS.events}?limit=1000`)).events;
  }

  /** The sum of the samples of a Prometheus counter whose labels include every one of `labels`. */
  async metric(name: string, labels: Record<string, string>): Promise<number> {
    const response = await fetch(`${this.url}${QUEEN_PATHS.metrics}`, { headers: authHeaders(this.token) });
    if (!response.ok) throw new Error(`GET ${QUEEN_PATHS.metrics}: ${response.status}`);
    const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
    let sum = 0;
    for (const line of (await response.text()).split('\n')) {
      const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
      if (match?.[1] !== name || !wanted.every((pair) => match[2]?.split(',').includes(pair))) continue;
      sum += Number(match[3]);
    }
    return sum;
  }

  private async json(path: string, allowMissing = false): Promise<unknown> {
    const response = await fetch(`${this.url}${path}`, { headers: authHeaders(this.token) });
    if (allowMissing && response.status === 404) return undefined;
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }
}
