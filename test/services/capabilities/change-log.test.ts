import { describe, expect, it } from 'vitest';
import type { Capabilities, CapabilityChanges } from '../../../contracts/capabilities.js';
import { applyCapabilityChanges } from '../../../services/capabilities/capability-diff.js';
import { createChangeLog } from '../../../services/capabilities/change-log.js';

const INITIAL: Capabilities = {
  devices: [{ id: 'CPU-0', name: 'Test CPU', device_type: 'cpu' }],
  models: [{ model_id: 'phi', size_gb: 1.6 }],
  workers: [{ worker_type: 'cpu', version: '0.1.0' }],
};
const ADD_GEMMA: CapabilityChanges = { models: [{ action: 'added', model_id: 'gemma', size_gb: 5 }], workers: [] };
const REMOVE_GEMMA: CapabilityChanges = {
  models: [{ action: 'removed', model_id: 'gemma', size_gb: 5 }],
  workers: [],
};
const REMOVE_PHI: CapabilityChanges = { models: [{ action: 'removed', model_id: 'phi', size_gb: 1.6 }], workers: [] };

/** A change log with its capabilities, changed the way the tracker changes them. */
function tracked() {
  const log = createChangeLog(INITIAL);
  let current = INITIAL;
  return {
    log,
    change(changes: CapabilityChanges): number {
      current = applyCapabilityChanges(current, changes);
      return log.record(changes);
    },
    pending: () => log.pending(current),
  };
}

describe('createChangeLog', () => {
  it('starts at version 0 with nothing pending', () => {
    const { log, pending } = tracked();
    expect(log.version()).toBe(0);
    expect(pending()).toBeNull();
  });

  it('keeps changes pending across a failed send, and drops them once acknowledged', () => {
    const { log, change, pending } = tracked();
    expect(change(ADD_GEMMA)).toBe(1);
    // A heartbeat carrying version 1 fails: nothing is acknowledged, the change rides the next one.
    expect(pending()).toEqual(ADD_GEMMA);
    expect(pending()).toEqual(ADD_GEMMA);
    log.acknowledge(1);
    expect(pending()).toBeNull();
    expect(log.version()).toBe(1);
  });

  it('keeps a change that arrived after the version that was sent', () => {
    const { log, change, pending } = tracked();
    change(ADD_GEMMA);
    const sentVersion = log.version();
    expect(change(REMOVE_PHI)).toBe(2);
    expect(pending()).toEqual({ models: [...REMOVE_PHI.models, ...ADD_GEMMA.models], workers: [] });
    log.acknowledge(sentVersion);
    expect(pending()).toEqual(REMOVE_PHI);
    log.acknowledge(2);
    expect(pending()).toBeNull();
  });

  it('cancels something added and removed again, but still sends the version', () => {
    const { log, change, pending } = tracked();
    change(ADD_GEMMA);
    change(REMOVE_GEMMA);
    expect(log.version()).toBe(2);
    expect(pending()).toEqual({ models: [], workers: [] });
  });

  it('ignores an old or future acknowledgement beyond what it knows', () => {
    const { log, change, pending } = tracked();
    change(ADD_GEMMA);
    change(REMOVE_PHI);
    log.acknowledge(2);
    log.acknowledge(1);
    expect(pending()).toBeNull();
    change(REMOVE_GEMMA);
    log.acknowledge(99);
    expect(pending()).toBeNull();
    expect(log.version()).toBe(3);
    change(ADD_GEMMA);
    expect(pending()).toEqual(ADD_GEMMA);
  });

  it('counts the versions recorded since the last acknowledged one', () => {
    const { log, change } = tracked();
    expect(log.unacknowledged()).toBe(0);
    change(ADD_GEMMA);
    change(REMOVE_PHI);
    expect(log.unacknowledged()).toBe(2);
    log.acknowledge(1);
    expect(log.unacknowledged()).toBe(1);
    log.acknowledge(2);
    expect(log.unacknowledged()).toBe(0);
  });
});
