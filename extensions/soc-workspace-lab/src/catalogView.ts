/**
 * What the data browser shows, computed from the server's answers: the mission tree, the
 * pages of files and the availability strip. No JupyterLab or DOM here, so it is unit-tested.
 */

import { TimeRange, dayOf, overlaps } from './timeRange';

/** One dataset, as `GET soc-workspace-lab/datasets` lists it. */
export interface DatasetInfo {
  dataset: string;
  mission: string | null;
  instrument: string | null;
  level: string | null;
  descriptor: string | null;
  mode: string | null;
  filetype: string;
  start: string | null;
  stop: string | null;
  files: number | null;
  mission_title: string;
  instrument_title: string;
}

export interface InstrumentNode {
  name: string;
  title: string;
  datasets: DatasetInfo[];
}

export interface MissionNode {
  name: string;
  title: string;
  instruments: InstrumentNode[];
}

const OTHER = 'other';

/** Missions -> instruments -> datasets, each level in name order. */
export function groupDatasets(datasets: DatasetInfo[]): MissionNode[] {
  const missions = new Map<string, MissionNode>();
  for (const info of datasets) {
    const missionName = info.mission ?? OTHER;
    let mission = missions.get(missionName);
    if (!mission) {
      mission = { name: missionName, title: info.mission_title || missionName, instruments: [] };
      missions.set(missionName, mission);
    }
    const instrumentName = info.instrument ?? OTHER;
    let instrument = mission.instruments.find(i => i.name === instrumentName);
    if (!instrument) {
      instrument = {
        name: instrumentName,
        title: info.instrument_title || instrumentName,
        datasets: []
      };
      mission.instruments.push(instrument);
    }
    instrument.datasets.push(info);
  }
  const byName = (a: { name: string }, b: { name: string }): number =>
    a.name.localeCompare(b.name);
  const result = [...missions.values()].sort(byName);
  for (const mission of result) {
    mission.instruments.sort(byName);
    for (const instrument of mission.instruments) {
      instrument.datasets.sort((a, b) => datasetLabel(a).localeCompare(datasetLabel(b)));
    }
  }
  return result;
}

/** A dataset's name within its instrument: `l1`, `l0 photon`, `ql spec burst`. */
export function datasetLabel(info: DatasetInfo): string {
  return [info.level ?? info.dataset, info.descriptor, info.mode].filter(Boolean).join(' ');
}

/** A dataset's time span by day: `2025-06-01 – 2025-06-03`, or one day. */
export function spanLabel(info: DatasetInfo): string {
  if (!info.start || !info.stop) {
    return 'no files';
  }
  const first = dayOf(new Date(info.start));
  // `stop` is excluded: a file ending at midnight has no data on that day.
  const stop = new Date(info.stop);
  const last = dayOf(new Date(Math.max(stop.getTime() - 1, new Date(info.start).getTime())));
  return first === last ? first : `${first} – ${last}`;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** A size for people, in powers of 1000: `1.4 MB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A time of a file for the table: `2025-06-01 13:00:00`. */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

// -- pages of files ----------------------------------------------------------------------

export interface Page {
  offset: number;
  limit: number;
  total: number;
}

/** `1–50 of 720 files`, `1 file`, `no files`. */
export function pageLabel(page: Page): string {
  if (page.total === 0) {
    return 'no files';
  }
  const noun = page.total === 1 ? 'file' : 'files';
  const last = Math.min(page.offset + page.limit, page.total);
  if (page.offset === 0 && last === page.total) {
    return `${page.total} ${noun}`;
  }
  return `${page.offset + 1}–${last} of ${page.total} ${noun}`;
}

/** The offset of the next page, or null on the last page. */
export function nextOffset(page: Page): number | null {
  const next = page.offset + page.limit;
  return next < page.total ? next : null;
}

/** The offset of the previous page, or null on the first page. */
export function previousOffset(page: Page): number | null {
  return page.offset > 0 ? Math.max(0, page.offset - page.limit) : null;
}

// -- the availability strip ----------------------------------------------------------------

/** Files and bytes of one UTC day, as `GET soc-workspace-lab/availability` gives them. */
export interface DayCount {
  day: string;
  files: number;
  bytes: number;
}

export interface StripCell {
  day: string;
  files: number;
  bytes: number;
  /** 0 for no files, 1 to 4 by files relative to the fullest day of the strip. */
  level: number;
  /** The day lies in the chosen time range. */
  selected: boolean;
  title: string;
}

const MAX_STRIP_MONTHS = 12;

/**
 * The days the strip shows for a time range: the whole months it touches (at most a year,
 * the months up to the range's end).
 */
export function stripWindow(range: TimeRange): TimeRange {
  const last = new Date(range.stop.getTime() - 1);
  const stop = new Date(Date.UTC(last.getUTCFullYear(), last.getUTCMonth() + 1, 1));
  let start = new Date(Date.UTC(range.start.getUTCFullYear(), range.start.getUTCMonth(), 1));
  const earliest = new Date(
    Date.UTC(stop.getUTCFullYear(), stop.getUTCMonth() - MAX_STRIP_MONTHS, 1)
  );
  if (start.getTime() < earliest.getTime()) {
    start = earliest;
  }
  return { start, stop };
}

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December'
]; // prettier-ignore

/** The strip's heading: `June 2025`, `May – June 2025`, `December 2024 – January 2025`. */
export function stripTitle(window: TimeRange): string {
  const first = window.start;
  const last = new Date(window.stop.getTime() - 1);
  const name = (d: Date): string => MONTHS[d.getUTCMonth()];
  if (first.getUTCFullYear() !== last.getUTCFullYear()) {
    return `${name(first)} ${first.getUTCFullYear()} – ${name(last)} ${last.getUTCFullYear()}`;
  }
  if (first.getUTCMonth() !== last.getUTCMonth()) {
    return `${name(first)} – ${name(last)} ${last.getUTCFullYear()}`;
  }
  return `${name(first)} ${first.getUTCFullYear()}`;
}

/** One cell per day of the server's answer, shaded by files, marked where selected. */
export function stripCells(days: DayCount[], range: TimeRange): StripCell[] {
  const most = Math.max(0, ...days.map(d => d.files));
  return days.map(d => {
    const start = new Date(`${d.day}T00:00:00Z`);
    const day = { start, stop: new Date(start.getTime() + 86_400_000) };
    const level = d.files === 0 ? 0 : Math.min(4, 1 + Math.floor((3 * d.files) / most));
    const noun = d.files === 1 ? 'file' : 'files';
    return {
      ...d,
      level,
      selected: overlaps(day, range),
      title: `${d.day}: ${d.files} ${noun}, ${formatBytes(d.bytes)}`
    };
  });
}

/** What the code comment and the quicklook call a dataset: `HERMES EEA l1`. */
export function selectionTitle(info: DatasetInfo): string {
  const names = [info.mission, info.instrument].filter(Boolean).map(n => n!.toUpperCase());
  return [...names, datasetLabel(info)].join(' ');
}
