import { describe, expect, it } from 'vitest';

import {
  DatasetInfo,
  datasetLabel,
  formatBytes,
  formatTime,
  groupDatasets,
  nextOffset,
  pageLabel,
  previousOffset,
  selectionTitle,
  spanLabel,
  stripCells,
  stripTitle,
  stripWindow
} from '../catalogView';
import { dayRange, toIso } from '../timeRange';

function dataset(id: string, extra: Partial<DatasetInfo> = {}): DatasetInfo {
  const [mission, instrument, level, descriptor, mode] = id.split('_');
  return {
    dataset: id,
    mission,
    instrument,
    level,
    descriptor: descriptor ?? null,
    mode: mode ?? null,
    filetype: 'cdf',
    start: '2025-06-01T00:00:00Z',
    stop: '2025-06-02T00:00:00Z',
    files: 24,
    mission_title: `${mission} mission`,
    instrument_title: `${instrument} instrument`,
    ...extra
  };
}

describe('the mission tree', () => {
  it('groups datasets by mission and instrument, each level sorted', () => {
    const tree = groupDatasets([
      dataset('padre_meddea_l0_photon'),
      dataset('hermes_nemisis_l1'),
      dataset('hermes_eea_l1'),
      dataset('hermes_eea_l0'),
      dataset('padre_meddea_l0_housekeeping')
    ]);
    expect(tree.map(m => m.name)).toEqual(['hermes', 'padre']);
    expect(tree[0].instruments.map(i => i.name)).toEqual(['eea', 'nemisis']);
    expect(tree[0].instruments[0].datasets.map(d => d.dataset)).toEqual([
      'hermes_eea_l0',
      'hermes_eea_l1'
    ]);
    expect(tree[1].instruments[0].datasets.map(datasetLabel)).toEqual([
      'l0 housekeeping',
      'l0 photon'
    ]);
    expect(tree[0].title).toBe('hermes mission');
    expect(tree[0].instruments[1].title).toBe('nemisis instrument');
  });

  it('keeps datasets of unknown missions (a HelioCloud bucket) under "other"', () => {
    const tree = groupDatasets([
      dataset('x', { mission: null, instrument: null, level: null, mission_title: '' })
    ]);
    expect(tree[0].name).toBe('other');
    expect(tree[0].instruments[0].name).toBe('other');
    expect(datasetLabel(tree[0].instruments[0].datasets[0])).toBe('x');
  });

  it('labels datasets and their spans', () => {
    expect(datasetLabel(dataset('hermes_nemisis_ql_spec_burst'))).toBe('ql spec burst');
    expect(selectionTitle(dataset('hermes_eea_l1'))).toBe('HERMES EEA l1');
    expect(spanLabel(dataset('hermes_eea_l1'))).toBe('2025-06-01');
    expect(spanLabel(dataset('a_b_c', { stop: '2025-06-03T12:00:00Z' }))).toBe(
      '2025-06-01 – 2025-06-03'
    );
    expect(spanLabel(dataset('a_b_c', { start: null, stop: null }))).toBe('no files');
  });
});

describe('formats', () => {
  it('gives sizes in powers of 1000', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.0 kB');
    expect(formatBytes(1_436_000)).toBe('1.4 MB');
    expect(formatBytes(250_000_000)).toBe('250 MB');
    expect(formatBytes(3.2e15)).toBe('3.2 PB');
  });

  it('shows times without the T and Z', () => {
    expect(formatTime('2025-06-01T13:00:00Z')).toBe('2025-06-01 13:00:00');
    expect(formatTime('2025-06-01T13:00:00.123Z')).toBe('2025-06-01 13:00:00');
  });
});

describe('pages', () => {
  it('labels and moves between pages', () => {
    expect(pageLabel({ offset: 0, limit: 50, total: 0 })).toBe('no files');
    expect(pageLabel({ offset: 0, limit: 50, total: 1 })).toBe('1 file');
    expect(pageLabel({ offset: 0, limit: 50, total: 24 })).toBe('24 files');
    const first = { offset: 0, limit: 50, total: 720 };
    expect(pageLabel(first)).toBe('1–50 of 720 files');
    expect(previousOffset(first)).toBeNull();
    expect(nextOffset(first)).toBe(50);
    const last = { offset: 700, limit: 50, total: 720 };
    expect(pageLabel(last)).toBe('701–720 of 720 files');
    expect(nextOffset(last)).toBeNull();
    expect(previousOffset(last)).toBe(650);
    expect(previousOffset({ offset: 20, limit: 50, total: 720 })).toBe(0);
  });
});

describe('the availability strip', () => {
  it('covers the whole months of the range, at most a year', () => {
    const day = stripWindow(dayRange(new Date('2025-06-01T00:00:00Z')));
    expect([toIso(day.start), toIso(day.stop)]).toEqual([
      '2025-06-01T00:00:00Z',
      '2025-07-01T00:00:00Z'
    ]);
    const across = stripWindow({
      start: new Date('2024-12-20T00:00:00Z'),
      stop: new Date('2025-01-03T00:00:00Z')
    });
    expect([toIso(across.start), toIso(across.stop)]).toEqual([
      '2024-12-01T00:00:00Z',
      '2025-02-01T00:00:00Z'
    ]);
    const long = stripWindow({
      start: new Date('2020-01-01T00:00:00Z'),
      stop: new Date('2025-06-15T00:00:00Z')
    });
    expect([toIso(long.start), toIso(long.stop)]).toEqual([
      '2024-07-01T00:00:00Z',
      '2025-07-01T00:00:00Z'
    ]);
  });

  it('names its months', () => {
    const window = (a: string, b: string) => ({ start: new Date(a), stop: new Date(b) });
    expect(stripTitle(window('2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z'))).toBe('June 2025');
    expect(stripTitle(window('2025-05-01T00:00:00Z', '2025-07-01T00:00:00Z'))).toBe(
      'May – June 2025'
    );
    expect(stripTitle(window('2024-12-01T00:00:00Z', '2025-02-01T00:00:00Z'))).toBe(
      'December 2024 – January 2025'
    );
  });

  it('shades days by files and marks the chosen range', () => {
    const cells = stripCells(
      [
        { day: '2025-06-01', files: 24, bytes: 33_000_000 },
        { day: '2025-06-02', files: 0, bytes: 0 },
        { day: '2025-06-03', files: 1, bytes: 1000 },
        { day: '2025-06-04', files: 12, bytes: 1000 },
        { day: '2025-06-05', files: 18, bytes: 1000 }
      ],
      {
        start: new Date('2025-06-02T12:00:00Z'),
        stop: new Date('2025-06-04T00:00:00Z')
      }
    );
    expect(cells.map(c => c.level)).toEqual([4, 0, 1, 2, 3]);
    expect(cells.map(c => c.selected)).toEqual([false, true, true, false, false]);
    expect(cells[0].title).toBe('2025-06-01: 24 files, 33.0 MB');
    expect(cells[2].title).toBe('2025-06-03: 1 file, 1.0 kB');
  });

  it('shows a month without data as empty days', () => {
    const cells = stripCells([{ day: '2025-06-01', files: 0, bytes: 0 }], {
      start: new Date('2025-06-01T00:00:00Z'),
      stop: new Date('2025-06-02T00:00:00Z')
    });
    expect(cells[0].level).toBe(0);
  });
});
