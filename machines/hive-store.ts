import type { CapabilityChanges } from '../contracts/capabilities.js';
import type { HiveHeartbeat, HiveReport } from '../contracts/heartbeat.js';
import type { CapabilitiesResponse } from '../contracts/hive-api.js';
import type { Liveness, LivenessReason } from '../contracts/registry.js';
import { CapabilitySet, capabilitiesOf, type HeldCapabilities, planCapabilitySync } from './capability-set.js';
import { type Fate, type LivenessSettings, LivenessTable } from './liveness.js';
import { ChangeLog, type RegistryChange } from './registry-changes.js';
import type { Received, RegistryClock } from './registry-clock.js';

/** One hive as the queen holds it. */
export interface HiveEntry {
  readonly id: string;
  liveness: Liveness;
  seenAt: number | null;
  since: number | null;
  /** Wall clock at the latest receipt. */
  seenWall: number | null;
  expected: boolean;
  /**
   * `host:port` of an expected hive never heard from: a discovery answer from there under another id takes its place
   * (a heartbeat only claims its `hive_url`, so it never does).
   */
  expectedAt: string | null;
  clockOffsetMs: number | null;
  /** Where the hive is reached: its latest `hive_url`, or where discovery looked for it. */
  hiveUrl: string | null;
  /** Its latest heartbeat (or discovery answer) without capabilities or secret. */
  report: HiveReport | null;
  capabilities: CapabilitySet | null;
  capabilitiesVersion: number | null;
  /** Hash of the identity secret issued at its first heartbeat. */
  secretHash: string | null;
  /** The hive has sent that secret back at least once: until then a restart that lost it may register again. */
  secretProven: boolean;
  /**
   * Hashes of secrets issued before `secretHash` while none was proven, newest first: a late registration of the hive's
   * own (delayed past its timeout, then delivered) is issued a new secret, and the hive may have kept an earlier one.
   */
  earlierHashes: readonly string[];
}

/** Earlier unproven secrets that stay good: a few registrations delayed past their timeout, never an unbounded list. */
export const EARLIER_SECRETS = 4;

/** A heartbeat the queen admitted, with the hash of the secret issued with its ack, if any. */
export interface AdmittedHive {
  arrival: Received<HiveReport & Pick<HiveHeartbeat, 'capabilities' | 'capability_changes'>>;
  issuedHash: string | null;
  /** The hash of the issued secret the heartbeat carried (the held one, or an earlier unproven one); null if none. */
  provenHash: string | null;
  /** With `issuedHash`: the hash of a secret it showed from an identity no longer held, good until one is proven. */
  shownHash?: string | null;
  /** Its full set as judged before it was admitted; absent or null when it carries none. */
  fullSet?: JudgedSet | null;
}

/** What judging made of a heartbeat's full set: the one held sent again, or a new set and its JSON, made once. */
export type JudgedSet = { held: true } | { held: false; json: string };

/**
 * A host of the hives config: one that did not answer, named by its Host alias until it is heard from, or one whose
 * hive answered under an id it has proven by heartbeats, named by that id.
 */
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
  /** An online hive is reached at this `host:port`, and no placeholder waits there to be confirmed. */
  onlineAt(hiveUrl: string): boolean;
  /** An expected hive never heard from waits at this `host:port`. */
  placeholderAt(hiveUrl: string): boolean;
  readonly size: number;
  readonly expectedCount: number;
  readonly expectedOnline: number;
}

export class HiveStore implements HiveRegistryReader {
  private readonly table = new LivenessTable<HiveEntry>((entry) => entry.expected);
  private readonly changes = new ChangeLog();
  private readonly unseenByAddress = new Map<string, HiveEntry>();
  private expected = 0;
  private expectedUp = 0;
  private heldBytes = 0;

  constructor(
    private readonly settings: LivenessSettings,
    private readonly clock: RegistryClock,
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** The bytes of capabilities held over all hives (`CapabilitySet.bytes`). */
  get capabilityBytes(): number {
    return this.heldBytes;
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

  onlineAt(hiveUrl: string): boolean {
    const address = addressOf(hiveUrl);
    return !this.unseenByAddress.has(address) && this.findByAddress(address)?.liveness === 'online';
  }

  placeholderAt(hiveUrl: string): boolean {
    return this.unseenByAddress.has(addressOf(hiveUrl));
  }

  /** An admitted heartbeat, received now. */
  receive({ arrival, issuedHash, provenHash, shownHash, fullSet }: AdmittedHive): void {
    const { heartbeat, at: now, wall } = arrival;
    const { capabilities, capability_changes: changes, ...report } = heartbeat;
    const entry = this.table.get(heartbeat.hive_id) ?? blankEntry(heartbeat.hive_id);
    const previous = entry.seenAt;
    const plan = planCapabilitySync(heldCapabilities(entry), heartbeat);
    // Judged against this very entry: whatever else changes the held set applies the admitted heartbeats first.
    if (plan.action === 'replace' && capabilities && fullSet?.held === true && entry.capabilities !== null) {
      entry.capabilitiesVersion = heartbeat.capabilities_version ?? null;
    } else if (plan.action === 'replace' && capabilities) {
      const json = fullSet?.held === false ? fullSet.json : JSON.stringify(capabilities);
      const before = entry.capabilities;
      this.hold(entry, new CapabilitySet(capabilities, json));
      entry.capabilitiesVersion = heartbeat.capabilities_version ?? null;
      // A first set comes with the registration; only a set that replaces another one is a change.
      if (before !== null && (before.bytes !== entry.capabilities?.bytes || before.json !== json)) {
        this.capabilitiesChanged(entry, null, wall);
      }
    } else if (plan.action === 'apply' && changes && entry.capabilities) {
      this.heldBytes -= entry.capabilities.bytes;
      entry.capabilities.apply(changes);
      this.heldBytes += entry.capabilities.bytes;
      entry.capabilitiesVersion = heartbeat.capabilities_version ?? entry.capabilitiesVersion;
      this.capabilitiesChanged(entry, changes, wall);
    }
    entry.seenWall = wall;
    entry.clockOffsetMs = Date.parse(heartbeat.timestamp) - wall;
    // Fields a heartbeat leaves out keep what an earlier one said.
    entry.report = { ...entry.report, ...report, status: report.status ?? 'ready' };
    entry.hiveUrl = report.hive_url ?? entry.hiveUrl;
    if (issuedHash !== null) {
      const unproven = entry.secretProven || entry.secretHash === null ? [] : [entry.secretHash];
      const shown = shownHash ? [shownHash] : [];
      entry.earlierHashes = [...unproven, ...shown, ...entry.earlierHashes].slice(0, EARLIER_SECRETS);
      entry.secretHash = issuedHash;
      entry.secretProven = false;
    } else if (provenHash !== null) {
      entry.secretHash = provenHash;
      entry.secretProven = true;
      entry.earlierHashes = [];
    }
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
    const entry = this.table.get(response.hive_id) ?? blankEntry(response.hive_id);
    const previous = entry.seenAt;
    this.markExpected(entry);
    this.heard(entry);
    this.replacePlaceholder(addressOf(hiveUrl), entry);
    // The answer carries no version: the next versioned heartbeat is asked for the full set.
    this.hold(entry, new CapabilitySet(capabilitiesOf(response)));
    entry.capabilitiesVersion = null;
    entry.seenWall = wall;
    entry.hiveUrl ??= hiveUrl;
    entry.report = {
      ...entry.report,
      hive_id: entry.id,
      timestamp: new Date(wall).toISOString(),
      monitor_data: response.monitor_data,
      hive_url: entry.hiveUrl,
      status: 'ready',
    };
    const from = this.table.seen(entry, now);
    if (from !== 'online') this.transition(entry, from, 'online', 'discovered', wall);
    this.changes.push({
      type: 'entry',
      kind: 'hive',
      id: entry.id,
      intervalMs: previous === null ? null : now - previous,
    });
  }

  /**
   * Hosts of the hives config: those that did not answer are listed (offline) until their hive is heard from; a hive
   * that answered from there under an id it has proven by heartbeats is expected in the placeholder's place.
   */
  expect(hives: readonly ExpectedHive[]): void {
    for (const { hiveId, hiveUrl } of hives) {
      const address = addressOf(hiveUrl);
      const known = this.table.get(hiveId);
      if (known) {
        if (this.markExpected(known))
          this.changes.push({ type: 'entry', kind: 'hive', id: known.id, intervalMs: null });
        if (known.hiveUrl !== null && addressOf(known.hiveUrl) === address) this.replacePlaceholder(address, known);
        continue;
      }
      // A hive that only claims this address in its heartbeats is not taken for the one expected there.
      if (this.unseenByAddress.has(address)) continue;
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

  /** The operator forgets a hive now (its identity with it); false when unknown. */
  forget(id: string): boolean {
    const entry = this.table.get(id);
    if (!entry) return false;
    const from = entry.liveness;
    this.heard(entry);
    this.table.remove(entry);
    this.transition(entry, from, 'forgotten', 'forgotten', this.clock.wallNow());
    return true;
  }

  /**
   * Hives kept from before a restart, oldest heartbeat first: offline ones stay offline, the others come back
   * suspect (`queen restart`) with the whole offline window from now to be heard again.
   */
  restore(entries: readonly HiveEntry[]): void {
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    for (const entry of entries) {
      const kept = this.table.restore(entry, now);
      this.heldBytes += entry.capabilities?.bytes ?? 0;
      if (entry.expected) this.expected++;
      if (entry.expected && entry.seenAt === null && entry.hiveUrl !== null) {
        entry.expectedAt = addressOf(entry.hiveUrl);
        this.unseenByAddress.set(entry.expectedAt, entry);
      }
      if (kept === 'online') this.transition(entry, kept, 'suspect', 'queen restart', wall);
    }
  }

  /**
   * A queen that has just become the leader takes `entries` (the state as loaded, merged with what it held, oldest
   * heartbeat first) in place of what it held, each given the restart grace, as after a restart.
   */
  reload(entries: readonly HiveEntry[]): void {
    for (const entry of [...this.table.values()]) this.table.remove(entry);
    this.unseenByAddress.clear();
    this.expected = 0;
    this.expectedUp = 0;
    this.heldBytes = 0;
    this.restore(entries);
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

  /** The hive expected at this address answered the queen under its own id: it takes the placeholder's place. */
  private replacePlaceholder(address: string, entry: HiveEntry): void {
    const placeholder = this.unseenByAddress.get(address);
    if (!placeholder || placeholder === entry) return;
    this.heard(placeholder);
    this.table.remove(placeholder);
    this.transition(placeholder, 'offline', 'forgotten', 'discovered', this.clock.wallNow());
  }

  /** Gives the entry a new set, keeping the total of bytes held true. */
  private hold(entry: HiveEntry, capabilities: CapabilitySet): void {
    this.heldBytes += capabilities.bytes - (entry.capabilities?.bytes ?? 0);
    entry.capabilities = capabilities;
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

  private capabilitiesChanged(entry: HiveEntry, changes: CapabilityChanges | null, at: number): void {
    this.changes.push({
      type: 'capabilities',
      kind: 'hive',
      id: entry.id,
      version: entry.capabilitiesVersion,
      changes,
      at,
    });
  }

  private transition(entry: HiveEntry, from: Liveness | null, to: Fate, reason: LivenessReason, at: number): void {
    if (entry.expected) this.expectedUp += (to === 'online' ? 1 : 0) - (from === 'online' ? 1 : 0);
    if (to === 'forgotten' && entry.expected) this.expected--;
    if (to === 'forgotten') this.heldBytes -= entry.capabilities?.bytes ?? 0;
    this.changes.push({ type: 'liveness', kind: 'hive', id: entry.id, from, to, reason, at });
  }
}

/** What the capability plan needs of a held hive. */
export function heldCapabilities(entry: HiveEntry): HeldCapabilities {
  return {
    hasCapabilities: entry.capabilities !== null,
    version: entry.capabilitiesVersion,
    bootId: entry.report?.boot_id ?? null,
  };
}

function blankEntry(id: string): HiveEntry {
  return {
    id,
    liveness: 'offline',
    seenAt: null,
    since: null,
    seenWall: null,
    expected: false,
    expectedAt: null,
    clockOffsetMs: null,
    hiveUrl: null,
    report: null,
    capabilities: null,
    capabilitiesVersion: null,
    secretHash: null,
    secretProven: false,
    earlierHashes: [],
  };
}

/** `host:port` of an http(s) URL, the way two URLs of one listener compare equal. */
function addressOf(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}
