import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../services/alerts/alert-input.js';
import { watchAlerts } from '../../../services/queen/alerts.js';
import { hiveBeat, issuedSecret, startQueenRegistry, workerBeat } from '../../support/queen-registry.js';
import { recordingAlerts } from '../../support/recording-alerts.js';

/** A registry whose changes feed a recording stand-in for the alerts. */
function watched() {
  const { registry } = startQueenRegistry();
  const seen: AlertInput[] = [];
  watchAlerts(registry, recordingAlerts(seen), 'q-test');
  return { registry, seen };
}

describe('alerts fed by the registries', () => {
  it('opens a refused identity for the hive, and resolves it when the hive is forgotten', () => {
    const { registry, seen } = watched();
    const first = registry.receiveHive(hiveBeat('h1'));
    expect(first.ok).toBe(true);
    expect(registry.receiveHive(hiveBeat('h1', { hive_secret: 'guessed' }), '10.0.0.66').ok).toBe(false);
    expect(seen.filter((input) => input.type === 'identity')).toEqual([
      {
        type: 'identity',
        id: 'h1',
        refused: true,
        reason: "a heartbeat from 10.0.0.66 did not carry the hive's secret",
      },
    ]);
    expect(registry.forgetHive('h1')).toBe(true);
    expect(seen.filter((input) => input.type === 'identity').at(-1)).toEqual({
      type: 'identity',
      id: 'h1',
      refused: false,
      reason: 'identity reset',
    });
  });

  it("passes a worker's status on, and nothing for a hive's accepted heartbeat", () => {
    const { registry, seen } = watched();
    const secret = issuedSecret(registry.receiveHive(hiveBeat('h1')));
    seen.length = 0;
    registry.receiveHive(hiveBeat('h1', { hive_secret: secret }, true));
    expect(seen.filter((input) => input.type !== 'queen-health')).toEqual([]);
    registry.receiveWorker(workerBeat('w1', 'h1', { status: 'error', hive_secret: secret }));
    expect(seen).toContainEqual({ type: 'worker-status', id: 'w1', status: 'error' });
  });
});
