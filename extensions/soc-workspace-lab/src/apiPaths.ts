/**
 * The server part's endpoints and their query strings (see soc_workspace_lab/routes.py).
 */

import { TimeRange, toIso } from './timeRange';

/** The URL namespace of the server part, under the server's base URL. */
export const NAMESPACE = 'soc-workspace-lab';

export function apiPath(endPoint: string): string {
  return `${NAMESPACE}/${endPoint}`;
}

type Params = Record<string, string | number | undefined>;

/** `endPoint?a=1&b=2`, leaving out undefined values. */
export function withQuery(endPoint: string, params: Params): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) {
      query.set(name, String(value));
    }
  }
  const text = query.toString();
  return text ? `${endPoint}?${text}` : endPoint;
}

function rangeParams(range: TimeRange): Params {
  return { start: toIso(range.start), stop: toIso(range.stop) };
}

export function datasetsPath(): string {
  return 'datasets';
}

export function filesPath(
  dataset: string,
  range: TimeRange,
  offset: number,
  limit: number
): string {
  return withQuery('files', { dataset, ...rangeParams(range), offset, limit });
}

export function availabilityPath(dataset: string, window: TimeRange): string {
  return withQuery('availability', { dataset, ...rangeParams(window) });
}

export function quicklookPath(
  dataset: string,
  range: TimeRange,
  format: 'png' | 'json',
  variable?: string
): string {
  return withQuery('quicklook', { dataset, ...rangeParams(range), format, variable });
}

export function templatesPath(): string {
  return 'templates';
}

export function templatePath(name: string): string {
  return `templates/${encodeURIComponent(name)}`;
}
