import { describe, expect, it } from 'vitest';

import { openSelectionCode, pythonString } from '../code';
import { dayRange } from '../timeRange';

describe('the inserted code', () => {
  it('searches the selection and opens what it finds', () => {
    const code = openSelectionCode({
      dataset: 'hermes_eea_l1',
      title: 'HERMES EEA l1',
      range: dayRange(new Date('2025-06-01T00:00:00Z'))
    });
    expect(code).toBe(
      [
        'import soc_workspace as soc',
        '',
        '# From the SOC data browser: HERMES EEA l1, 2025-06-01 00:00 – 2025-06-02 00:00 UTC',
        'start, stop = "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"',
        'files = soc.search(dataset="hermes_eea_l1", start=start, stop=stop)',
        'ds = soc.open_catalog_files(files, start=start, stop=stop)',
        'ds'
      ].join('\n')
    );
  });

  it('names no store, key or file: the kernel uses the workspace settings', () => {
    const code = openSelectionCode({
      dataset: 'padre_meddea_l0_photon',
      title: 'PADRE MEDDEA l0 photon',
      range: { start: new Date('2025-06-01T06:00:00Z'), stop: new Date('2025-06-08T06:00:00Z') }
    });
    expect(code).not.toMatch(/s3:\/\/|endpoint|secret|access_key|token|\.fits|\.cdf/i);
    expect(code).toContain('start, stop = "2025-06-01T06:00:00Z", "2025-06-08T06:00:00Z"');
  });

  it('quotes text as Python literals', () => {
    expect(pythonString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(pythonString('line\nbreak')).toBe('"line\\nbreak"');
    const code = openSelectionCode({
      dataset: 'x") ; import os #',
      title: 'odd\nname',
      range: dayRange(new Date('2025-06-01T00:00:00Z'))
    });
    expect(code).toContain('soc.search(dataset="x\\") ; import os #"');
    expect(code.split('\n')).toHaveLength(7); // the title's line break stays in the comment
  });
});
