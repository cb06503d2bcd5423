import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, SDK_WARNINGS, SUMMARY_TAGS, bounded, callEventLabels } from '../../../src/events/event-labels.ts';

describe('event labels', () => {
  it('keeps documented SDK warnings, levels, groups and edges as they are', () => {
    for (const name of SDK_WARNINGS) {
      expect(callEventLabels({ name, level: 'WARNING', group: 'network-quality-warning-raised', edge: 'sdk_edge' }))
        .toEqual({ name, level: 'WARNING', group: 'network-quality-warning-raised', edge: 'sdk_edge' });
    }
  });

  it('turns every value outside the closed sets into "other", so a sender cannot grow the series', () => {
    expect(callEventLabels({ name: 'x-1', level: 'LOUD', group: 'g', edge: 'moon_edge' })).toEqual({ name: 'other', level: 'other', group: 'other', edge: 'other' });
    const names = new Set(Array.from({ length: 1000 }, (_, i) => bounded(`name-${i}`, EVENT_NAMES)));
    expect(names).toEqual(new Set(['other']));
  });

  it('knows the documented call tags and nothing else', () => {
    expect(SUMMARY_TAGS.map((t) => bounded(t, SUMMARY_TAGS))).toEqual([...SUMMARY_TAGS]);
    expect(bounded('constructor', SUMMARY_TAGS)).toBe('other');
  });
});
