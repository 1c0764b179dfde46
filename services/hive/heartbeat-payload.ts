import type { Capabilities, CapabilityChanges } from '../../contracts/capabilities.js';
import type { HiveHeartbeat, MonitorData } from '../../contracts/heartbeat.js';
import type { SendRequest } from '../../machines/lifecycle.js';
import type { SendOutcome } from '../../machines/send-outcome.js';
import type { HeartbeatNumbering } from '../heartbeat-numbering.js';
import type { HiveIdentity } from './identity.js';

/** The parts of the capability tracker a heartbeat needs. */
export interface CapabilitySource {
  current(): Capabilities;
  version(): number;
  /** Changes the queen has not acknowledged yet; null when there are none. */
  pending(): CapabilityChanges | null;
  acknowledge(version: number): void;
  /** Versions recorded since the last acknowledged one. */
  unacknowledged(): number;
}

export interface HivePayloadDeps {
  hiveId: string;
  /** How its heartbeats are numbered: a `boot_id` per hive process tells the queen a restart from a long silence. */
  numbering: HeartbeatNumbering;
  hiveUrl: string;
  monitor: { latest(): MonitorData };
  capabilities: CapabilitySource;
  identity: Pick<HiveIdentity, 'secret' | 'learn' | 'accepted'>;
  now?: () => Date;
}

export interface HivePayload {
  /** Builds the heartbeat the lifecycle asked for: full capabilities, or the pending changes. */
  build(request: SendRequest): HiveHeartbeat;
  /** After a send: a 2xx acknowledges the capabilities version the payload carried, and may issue an identity. */
  sent(payload: HiveHeartbeat, outcome: SendOutcome, request: SendRequest): void;
}

export function createHivePayload(deps: HivePayloadDeps): HivePayload {
  const now = deps.now ?? (() => new Date());
  return {
    build(request) {
      const { capabilities } = deps;
      const version = capabilities.version();
      const heartbeat: HiveHeartbeat = {
        hive_id: deps.hiveId,
        timestamp: now().toISOString(),
        monitor_data: deps.monitor.latest(),
        capabilities_version: version,
        ...deps.numbering.next(),
        hive_url: deps.hiveUrl,
        status: request.reason === 'final' ? 'stopping' : 'ready',
      };
      const secret = deps.identity.secret();
      if (secret !== undefined) heartbeat.hive_secret = secret;
      if (request.full) return { ...heartbeat, capabilities: capabilities.current() };
      const changes = capabilities.pending();
      // Changes run from the last acknowledged set to the newest version: past one version, a queen that took one
      // whose answer was lost would apply them to the wrong set (its version one short of theirs). The set is right
      // whatever it holds.
      if (changes && capabilities.unacknowledged() > 1) return { ...heartbeat, capabilities: capabilities.current() };
      return changes ? { ...heartbeat, capability_changes: changes } : heartbeat;
    },
    sent(payload, outcome, request) {
      deps.numbering.sent(outcome);
      if (!outcome.ok) return;
      if (payload.capabilities_version !== undefined) deps.capabilities.acknowledge(payload.capabilities_version);
      if (outcome.value.hive_secret !== undefined) deps.identity.learn(outcome.value.hive_secret, request.queenUrl);
      else if (payload.hive_secret !== undefined) deps.identity.accepted(request.queenUrl);
    },
  };
}
