import { describe, expect, it } from 'vitest';
import { StreamEvent } from '../../contracts/stream.js';
import { hiveView, livenessEvent, queenEvent, snapshotEvent, workerView } from '../fixtures/examples.js';
import { issuePaths, withValue } from './issue-paths.js';

describe('stream events', () => {
  it('tells the event kinds apart by type', () => {
    const events = [snapshotEvent, queenEvent, { ...hiveView, type: 'hive' }, { ...workerView, type: 'worker' }];
    expect(events.map((event) => StreamEvent.parse(event).type)).toEqual(['snapshot', 'queen', 'hive', 'worker']);
    expect(StreamEvent.parse(livenessEvent)).toEqual(livenessEvent);
  });

  it.each<[unknown, string]>([
    [withValue(queenEvent, 'type', 'king'), 'type'],
    [withValue(snapshotEvent, 'rev', -1), 'rev'],
    [withValue(queenEvent, 'hives_online', 1.5), 'hives_online'],
    [withValue(livenessEvent, 'to', 'gone'), 'to'],
    [withValue(livenessEvent, 'reason', 'bored'), 'reason'],
    [withValue({ ...workerView, type: 'worker' }, 'last_seen_age_ms', -1), 'last_seen_age_ms'],
    [withValue({ ...hiveView, type: 'hive' }, 'liveness', 'dead'), 'liveness'],
  ])('rejects a malformed event at %#: %s', (event, path) => {
    expect(issuePaths(StreamEvent, event)).toContain(path);
  });
});
