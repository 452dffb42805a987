import { describe, expect, it } from 'vitest';

import {
  apiPath,
  availabilityPath,
  filesPath,
  quicklookPath,
  templatePath,
  withQuery
} from '../apiPaths';
import { dayRange } from '../timeRange';

const day = dayRange(new Date('2025-06-01T00:00:00Z'));

describe('endpoints', () => {
  it('live under the extension namespace', () => {
    expect(apiPath('datasets')).toBe('soc-workspace-lab/datasets');
  });

  it('carry the selection as query parameters', () => {
    const files = new URL(`http://x/${filesPath('hermes_eea_l1', day, 50, 50)}`);
    expect(files.pathname).toBe('/files');
    expect(Object.fromEntries(files.searchParams)).toEqual({
      dataset: 'hermes_eea_l1',
      start: '2025-06-01T00:00:00Z',
      stop: '2025-06-02T00:00:00Z',
      offset: '50',
      limit: '50'
    });
    expect(availabilityPath('a', day)).toBe(
      'availability?dataset=a&start=2025-06-01T00%3A00%3A00Z&stop=2025-06-02T00%3A00%3A00Z'
    );
    expect(quicklookPath('a', day, 'json')).not.toContain('variable');
    expect(quicklookPath('a', day, 'png', 'x&y')).toContain('variable=x%26y');
  });

  it('escape what they embed', () => {
    expect(withQuery('files', {})).toBe('files');
    expect(withQuery('files', { dataset: 'a b', offset: undefined })).toBe('files?dataset=a+b');
    expect(templatePath('../etc/passwd')).toBe('templates/..%2Fetc%2Fpasswd');
  });
});
