import { describe, expect, it } from 'vitest';

import {
  dayRange,
  describeRange,
  latestDay,
  overlaps,
  parseUtc,
  rangeProblem,
  spanFrom,
  toInputValue,
  toIso
} from '../timeRange';

const utc = (text: string): Date => new Date(text);

describe('parseUtc', () => {
  it('reads what a datetime-local input holds as UTC', () => {
    expect(parseUtc('2025-06-01T13:45')?.toISOString()).toBe('2025-06-01T13:45:00.000Z');
    expect(parseUtc('2025-06-01T13:45:07')?.toISOString()).toBe('2025-06-01T13:45:07.000Z');
    expect(parseUtc(' 2025-06-01 ')?.toISOString()).toBe('2025-06-01T00:00:00.000Z');
    expect(parseUtc('2025-06-01 08:00')?.toISOString()).toBe('2025-06-01T08:00:00.000Z');
  });

  it('refuses what is not a time instead of rolling it over', () => {
    for (const text of ['', 'june', '2025-6-1', '2025-02-30', '2025-06-01T25:00', '2025-13-01']) {
      expect(parseUtc(text), text).toBeNull();
    }
    expect(parseUtc('2024-02-29')).not.toBeNull(); // a leap day is a day
    expect(parseUtc('2025-02-29')).toBeNull();
  });
});

describe('formats', () => {
  it('gives the input value and the ISO text the server gets', () => {
    const t = utc('2025-06-01T00:00:00Z');
    expect(toInputValue(t)).toBe('2025-06-01T00:00');
    expect(toInputValue(utc('2025-06-01T10:20:30Z'))).toBe('2025-06-01T10:20:30');
    expect(toIso(t)).toBe('2025-06-01T00:00:00Z');
    expect(toIso(utc('2025-06-01T00:00:00.250Z'))).toBe('2025-06-01T00:00:00.250Z');
    expect(parseUtc(toInputValue(t))).toEqual(t);
  });

  it('describes a range for people', () => {
    expect(describeRange(dayRange(utc('2025-06-01T15:00:00Z')))).toBe(
      '2025-06-01 00:00 – 2025-06-02 00:00 UTC'
    );
  });
});

describe('spans', () => {
  it('adds a day, a week or a calendar month to the start', () => {
    const start = utc('2025-06-01T06:00:00Z');
    expect(toIso(spanFrom(start, 'day').stop)).toBe('2025-06-02T06:00:00Z');
    expect(toIso(spanFrom(start, 'week').stop)).toBe('2025-06-08T06:00:00Z');
    expect(toIso(spanFrom(start, 'month').stop)).toBe('2025-07-01T06:00:00Z');
    expect(toIso(spanFrom(utc('2025-12-15T00:00:00Z'), 'month').stop)).toBe(
      '2026-01-15T00:00:00Z'
    );
  });

  it('ends a month from the 31st at the end of a shorter month', () => {
    expect(toIso(spanFrom(utc('2025-01-31T00:00:00Z'), 'month').stop)).toBe(
      '2025-02-28T00:00:00Z'
    );
  });

  it('picks the whole UTC day of a time', () => {
    const day = dayRange(utc('2025-06-01T23:59:59Z'));
    expect([toIso(day.start), toIso(day.stop)]).toEqual([
      '2025-06-01T00:00:00Z',
      '2025-06-02T00:00:00Z'
    ]);
  });
});

describe('rangeProblem', () => {
  it('names what is wrong', () => {
    const t = utc('2025-06-01T00:00:00Z');
    expect(rangeProblem(null, t)).toMatch(/^Start is not a time/);
    expect(rangeProblem(t, null)).toMatch(/^Stop is not a time/);
    expect(rangeProblem(t, t)).toBe('Stop must be after start.');
    expect(rangeProblem(t, utc('2025-05-31T00:00:00Z'))).toBe('Stop must be after start.');
    expect(rangeProblem(t, utc('2025-06-01T00:00:01Z'))).toBeNull();
  });
});

describe('latestDay', () => {
  it('is the day of the last data, the stop being excluded', () => {
    const day = latestDay('2025-06-01T00:00:00Z', '2025-06-02T00:00:00Z');
    expect(day && toIso(day.start)).toBe('2025-06-01T00:00:00Z');
    const later = latestDay('2025-06-01T00:00:00Z', '2025-06-03T05:00:00Z');
    expect(later && toIso(later.start)).toBe('2025-06-03T00:00:00Z');
  });

  it('handles a dataset of one file and one without files', () => {
    const one = latestDay('2025-06-01T12:00:00Z', '2025-06-01T12:00:00Z');
    expect(one && toIso(one.start)).toBe('2025-06-01T00:00:00Z');
    expect(latestDay(null, null)).toBeNull();
  });
});

describe('overlaps', () => {
  it('treats stops as excluded', () => {
    const june1 = dayRange(utc('2025-06-01T00:00:00Z'));
    const june2 = dayRange(utc('2025-06-02T00:00:00Z'));
    expect(overlaps(june1, june2)).toBe(false);
    expect(overlaps(june1, { start: utc('2025-06-01T23:00:00Z'), stop: june2.stop })).toBe(true);
  });
});
