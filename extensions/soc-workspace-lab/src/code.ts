/**
 * The code "Insert code" puts into a notebook: it searches the catalog with the panel's
 * selection and opens what it finds, so rerunning it later finds the same files (or newer
 * versions of them) instead of a frozen list. The store's endpoint and keys come from the
 * workspace's settings in the kernel: the cell names none.
 */

import { TimeRange, describeRange, toIso } from './timeRange';

export interface Selection {
  /** The catalog's dataset id, e.g. `hermes_eea_l1`. */
  dataset: string;
  /** What people call it, e.g. `HERMES EEA l1`. */
  title: string;
  range: TimeRange;
}

/** A Python string literal (JSON's escapes are Python's too). */
export function pythonString(text: string): string {
  return JSON.stringify(text);
}

/** The cell that opens a selection with soc_workspace. */
export function openSelectionCode(selection: Selection): string {
  const start = pythonString(toIso(selection.range.start));
  const stop = pythonString(toIso(selection.range.stop));
  const comment = `${selection.title}, ${describeRange(selection.range)}`.replace(/\n/g, ' ');
  return [
    'import soc_workspace as soc',
    '',
    `# From the SOC data browser: ${comment}`,
    `start, stop = ${start}, ${stop}`,
    `files = soc.search(dataset=${pythonString(selection.dataset)}, start=start, stop=stop)`,
    'ds = soc.open_catalog_files(files, start=start, stop=stop)',
    'ds'
  ].join('\n');
}
