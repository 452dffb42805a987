/**
 * Time ranges as the data browser shows and sends them: always UTC, start included, stop
 * excluded (the catalog returns the files that overlap [start, stop)).
 */

export interface TimeRange {
  start: Date;
  stop: Date;
}

/** The quick spans of the time-range picker. */
export type Span = 'day' | 'week' | 'month';

const DAY_MS = 86_400_000;

const INPUT_VALUE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?Z?$/;

/**
 * A time typed into the picker (the value of an `<input type="datetime-local">`, or
 * `YYYY-MM-DD`), read as UTC; null when it is not a time.
 */
export function parseUtc(value: string): Date | null {
  const match = INPUT_VALUE.exec(value.trim());
  if (!match) {
    return null;
  }
  const [year, month, day, hour, minute, second] = match
    .slice(1)
    .map(part => (part === undefined ? 0 : Number(part)));
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC carries 2025-02-30 over into March and 25:00 into the next day: refuse those.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute
  ) {
    return null;
  }
  return date;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** `YYYY-MM-DD` of a time (UTC). */
export function dayOf(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** What the picker's inputs show for a time: `YYYY-MM-DDTHH:MM` (UTC). */
export function toInputValue(date: Date): string {
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
  const seconds = date.getUTCSeconds() ? `:${pad(date.getUTCSeconds())}` : '';
  return `${dayOf(date)}T${time}${seconds}`;
}

/** What the server and the inserted code get: `2025-06-01T00:00:00Z`. */
export function toIso(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/** Midnight (UTC) of the day of a time. */
export function startOfDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** The range of one span from `start`: a day, a week or a calendar month. */
export function spanFrom(start: Date, span: Span): TimeRange {
  if (span === 'month') {
    const stop = new Date(start.getTime());
    stop.setUTCMonth(stop.getUTCMonth() + 1);
    // 31 January + 1 month is 3 March in Date arithmetic: stop at the month's end instead.
    if (stop.getUTCDate() !== start.getUTCDate()) {
      stop.setUTCDate(0);
    }
    return { start, stop };
  }
  const days = span === 'week' ? 7 : 1;
  return { start, stop: new Date(start.getTime() + days * DAY_MS) };
}

/** The range of one whole UTC day. */
export function dayRange(day: Date): TimeRange {
  return spanFrom(startOfDay(day), 'day');
}

/**
 * Why the picker's values are not a range the panel can ask for, or null when they are.
 */
export function rangeProblem(start: Date | null, stop: Date | null): string | null {
  if (start === null) {
    return 'Start is not a time: give YYYY-MM-DD HH:MM (UTC).';
  }
  if (stop === null) {
    return 'Stop is not a time: give YYYY-MM-DD HH:MM (UTC).';
  }
  if (stop.getTime() <= start.getTime()) {
    return 'Stop must be after start.';
  }
  return null;
}

/**
 * The range the panel first shows for a dataset: the last day it has data, or null for a
 * dataset without files. `stop` is the catalog's (estimated) end of its last file.
 */
export function latestDay(
  first: string | null,
  last: string | null
): TimeRange | null {
  if (!first || !last) {
    return null;
  }
  const start = new Date(first);
  const stop = new Date(last);
  // The last file ends at `stop`, which is excluded: its data are on the day before
  // when it ends exactly at midnight.
  const lastInstant = stop.getTime() > start.getTime() ? stop.getTime() - 1 : start.getTime();
  return dayRange(new Date(lastInstant));
}

/** A range for people: `2025-06-01 00:00 – 2025-06-02 00:00 UTC`. */
export function describeRange(range: TimeRange): string {
  const show = (date: Date): string => toInputValue(date).replace('T', ' ');
  return `${show(range.start)} – ${show(range.stop)} UTC`;
}

/** Whether two ranges overlap (both [start, stop)). */
export function overlaps(a: TimeRange, b: TimeRange): boolean {
  return a.start.getTime() < b.stop.getTime() && b.start.getTime() < a.stop.getTime();
}
