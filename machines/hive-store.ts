import type { HiveHeartbeat, HiveStatus, MonitorData } from '../contracts/heartbeat.js';
import type { CapabilitiesResponse } from '../contracts/hive-api.js';
import type { Liveness, LivenessReason } from '../contracts/registry.js';
import { CapabilitySet, planCapabilitySync, type ResyncReason } from './capability-set.js';
import { type Fate, type LivenessSettings, LivenessTable } from './liveness.js';
import { ChangeLog, type RegistryChange } from './registry-changes.js';
import type { Received, RegistryClock } from './registry-clock.js';

/** One hive as the queen holds it. */
export interface HiveEntry {
  readonly id: string;
  liveness: Liveness;
  seenAt: number | null;
  /** Wall clock at the latest receipt. */
  seenWall: number | null;
  expected: boolean;
  /** `host:port` of an expected hive never heard from: the first hive heard from there under another id adopts it. */
  expectedAt: string | null;
  clockOffsetMs: number | null;
  status: HiveStatus | null;
  timestamp: string | null;
  bootId: string | null;
  hiveUrl: string | null;
  monitorData: MonitorData | null;
  capabilities: CapabilitySet | null;
  capabilitiesVersion: number | null;
}

/** Whether a hive heartbeat may change the registry, and whether its ack asks for a resync. */
export type HiveAdmission = { ok: true; resync: ResyncReason | null } | { ok: false; error: string };

/** A hive from the hives config that did not answer: named by its Host alias until it is heard from. */
export interface ExpectedHive {
  hiveId: string;
  /** Where it was looked for, `http://<HostName>:<hive-port>`. */
  hiveUrl: string;
}

/** A hive's answer to discovery, with where it was reached. */
export interface DiscoveredHive {
  response: CapabilitiesResponse;
  hiveUrl: string;
}

/** What the queen's HTTP routes and stream read; only the registry machine mutates. */
export interface HiveRegistryReader {
  get(id: string): HiveEntry | undefined;
  entries(): IterableIterator<HiveEntry>;
  count(liveness: Liveness): number;
  onlineIds(): IterableIterator<string>;
  readonly size: number;
  readonly expectedCount: number;
  readonly expectedOnline: number;
  admit(heartbeat: HiveHeartbeat): HiveAdmission;
}

export class HiveStore implements HiveRegistryReader {
  private readonly table = new LivenessTable<HiveEntry>((entry) => entry.expected);
  private readonly changes = new ChangeLog();
  private readonly unseenByAddress = new Map<string, HiveEntry>();
  private wentOffline: string[] = [];
  private admissions: HiveAdmission[] = [];
  private expected = 0;
  private expectedUp = 0;

  constructor(
    private readonly settings: LivenessSettings,
    private readonly clock: RegistryClock,
  ) {}

  get size(): number {
    return this.table.size;
  }

  get expectedCount(): number {
    return this.expected;
  }

  get expectedOnline(): number {
    return this.expectedUp;
  }

  get(id: string): HiveEntry | undefined {
    return this.table.get(id);
  }

  entries(): IterableIterator<HiveEntry> {
    return this.table.values();
  }

  count(liveness: Liveness): number {
    return this.table.count(liveness);
  }

  onlineIds(): IterableIterator<string> {
    return this.table.ids('online');
  }

  admit(heartbeat: HiveHeartbeat): HiveAdmission {
    const held = this.table.get(heartbeat.hive_id);
    if (
      held?.liveness === 'online' &&
      held.bootId !== null &&
      heartbeat.boot_id !== undefined &&
      heartbeat.boot_id !== held.bootId &&
      // A new boot at the very address of the old one is that hive restarted (its port is the old process's no
      // more); only a second live process elsewhere is a duplicate --hive-id.
      !(heartbeat.hive_url !== undefined && heartbeat.hive_url === held.hiveUrl)
    ) {
      return {
        ok: false,
        error:
          `hive ${heartbeat.hive_id} is online with boot_id ${held.bootId}, and this heartbeat has boot_id ` +
          `${heartbeat.boot_id}: two live hives share one --hive-id (give each machine its own)`,
      };
    }
    const plan = planCapabilitySync(held && heldCapabilities(held), heartbeat);
    return { ok: true, resync: plan.resync };
  }

  /** Admits a heartbeat and, when admitted, receives it; the verdict waits in `takeAdmissions`. */
  admitAndReceive(arrival: Received<HiveHeartbeat>): void {
    const admission = this.admit(arrival.heartbeat);
    if (admission.ok) this.receive(arrival);
    this.admissions.push(admission);
  }

  /** The verdicts of the heartbeats admitted or refused since the last take, in order. */
  takeAdmissions(): HiveAdmission[] {
    const taken = this.admissions;
    if (taken.length > 0) this.admissions = [];
    return taken;
  }

  /** An admitted heartbeat, received now. */
  private receive({ heartbeat, at: now, wall }: Received<HiveHeartbeat>): void {
    const entry = this.table.get(heartbeat.hive_id) ?? this.create(heartbeat.hive_id, heartbeat.hive_url);
    const previous = entry.seenAt;
    const plan = planCapabilitySync(heldCapabilities(entry), heartbeat);
    if (plan.action === 'replace' && heartbeat.capabilities) {
      entry.capabilities = new CapabilitySet(heartbeat.capabilities);
      entry.capabilitiesVersion = heartbeat.capabilities_version ?? null;
    } else if (plan.action === 'apply' && heartbeat.capability_changes && entry.capabilities) {
      entry.capabilities.apply(heartbeat.capability_changes);
      entry.capabilitiesVersion = heartbeat.capabilities_version ?? entry.capabilitiesVersion;
    }
    entry.seenWall = wall;
    entry.clockOffsetMs = Date.parse(heartbeat.timestamp) - wall;
    entry.status = heartbeat.status ?? 'ready';
    entry.timestamp = heartbeat.timestamp;
    entry.bootId = heartbeat.boot_id ?? entry.bootId;
    entry.hiveUrl = heartbeat.hive_url ?? entry.hiveUrl;
    entry.monitorData = heartbeat.monitor_data;
    this.heard(entry);
    const from = this.table.seen(entry, now);
    if (heartbeat.status === 'stopping') {
      this.table.setOffline(entry);
      if (from !== 'offline') this.transition(entry, from, 'offline', 'graceful stop', wall);
    } else if (from !== 'online') {
      this.transition(entry, from, 'online', 'heartbeat', wall);
    }
    this.changes.push({
      type: 'entry',
      kind: 'hive',
      id: entry.id,
      intervalMs: previous === null ? null : now - previous,
    });
  }

  /** A hive answered discovery: it is alive, expected, and its answer is its current capabilities. */
  discovered({ response, hiveUrl }: DiscoveredHive): void {
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    const entry = this.table.get(response.hive_id) ?? this.create(response.hive_id, hiveUrl);
    const previous = entry.seenAt;
    this.markExpected(entry);
    this.heard(entry);
    // The answer carries no version: the next versioned heartbeat is asked for the full set.
    entry.capabilities = new CapabilitySet(response);
    entry.capabilitiesVersion = null;
    entry.seenWall = wall;
    entry.status = 'ready';
    entry.hiveUrl ??= hiveUrl;
    entry.monitorData = response.monitor_data;
    const from = this.table.seen(entry, now);
    if (from !== 'online') this.transition(entry, from, 'online', 'discovered', wall);
    this.changes.push({
      type: 'entry',
      kind: 'hive',
      id: entry.id,
      intervalMs: previous === null ? null : now - previous,
    });
  }

  /** Hosts of the hives config that did not answer: listed (offline) until their hive is heard from. */
  expect(hives: readonly ExpectedHive[]): void {
    for (const { hiveId, hiveUrl } of hives) {
      const address = addressOf(hiveUrl);
      const known = this.table.get(hiveId) ?? this.findByAddress(address);
      if (known) {
        if (this.markExpected(known))
          this.changes.push({ type: 'entry', kind: 'hive', id: known.id, intervalMs: null });
        continue;
      }
      const entry = blankEntry(hiveId);
      entry.expected = true;
      entry.expectedAt = address;
      entry.hiveUrl = hiveUrl;
      this.expected++;
      this.table.addUnseen(entry);
      this.unseenByAddress.set(address, entry);
      this.changes.push({ type: 'entry', kind: 'hive', id: hiveId, intervalMs: null });
    }
  }

  sweep(): void {
    const wall = this.clock.wallNow();
    this.table.sweep(this.clock.now(), this.settings, (entry, from, to, reason) =>
      this.transition(entry, from, to, reason, wall),
    );
  }

  /** Changes since the last take, for the machine to publish. */
  takeChanges(): RegistryChange[] {
    return this.changes.take();
  }

  /** Hives that went offline since the last take: their workers follow. */
  takeWentOffline(): string[] {
    const ids = this.wentOffline;
    if (ids.length > 0) this.wentOffline = [];
    return ids;
  }

  /** Summary for the inspector, which serializes the context on every event. */
  toJSON(): Record<string, number> {
    return {
      hives: this.table.size,
      online: this.count('online'),
      suspect: this.count('suspect'),
      offline: this.count('offline'),
      expected: this.expected,
    };
  }

  private create(id: string, hiveUrl: string | undefined): HiveEntry {
    const entry = blankEntry(id);
    const adopted = hiveUrl === undefined ? undefined : this.unseenByAddress.get(addressOf(hiveUrl));
    if (adopted) {
      // The hive expected at this address is heard from under its own id: it takes the placeholder's place.
      this.heard(adopted);
      this.table.remove(adopted);
      this.transition(adopted, 'offline', 'forgotten', 'discovered', this.clock.wallNow());
      this.markExpected(entry);
    }
    return entry;
  }

  private findByAddress(address: string): HiveEntry | undefined {
    for (const entry of this.table.values()) {
      if (entry.hiveUrl !== null && addressOf(entry.hiveUrl) === address) return entry;
    }
    return undefined;
  }

  /** The entry is heard from: no longer a placeholder waiting at its address. */
  private heard(entry: HiveEntry): void {
    if (entry.expectedAt === null) return;
    this.unseenByAddress.delete(entry.expectedAt);
    entry.expectedAt = null;
  }

  /** True when the entry was not expected before. */
  private markExpected(entry: HiveEntry): boolean {
    if (entry.expected) return false;
    entry.expected = true;
    this.expected++;
    if (entry.liveness === 'online' && this.table.get(entry.id) === entry) this.expectedUp++;
    return true;
  }

  private transition(entry: HiveEntry, from: Liveness | null, to: Fate, reason: LivenessReason, at: number): void {
    if (entry.expected) this.expectedUp += (to === 'online' ? 1 : 0) - (from === 'online' ? 1 : 0);
    if (to === 'forgotten' && entry.expected) this.expected--;
    if (to === 'offline' || (to === 'forgotten' && from !== 'offline')) this.wentOffline.push(entry.id);
    this.changes.push({ type: 'liveness', kind: 'hive', id: entry.id, from, to, reason, at });
  }
}

function heldCapabilities(entry: HiveEntry) {
  return { hasCapabilities: entry.capabilities !== null, version: entry.capabilitiesVersion, bootId: entry.bootId };
}

function blankEntry(id: string): HiveEntry {
  return {
    id,
    liveness: 'offline',
    seenAt: null,
    seenWall: null,
    expected: false,
    expectedAt: null,
    clockOffsetMs: null,
    status: null,
    timestamp: null,
    bootId: null,
    hiveUrl: null,
    monitorData: null,
    capabilities: null,
    capabilitiesVersion: null,
  };
}

/** `host:port` of an http(s) URL, the way two URLs of one listener compare equal. */
function addressOf(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}
