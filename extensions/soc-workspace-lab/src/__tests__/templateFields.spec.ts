import { describe, expect, it } from 'vitest';

import { TemplateParameter, formFields } from '../templateFields';

const parameters: TemplateParameter[] = [
  { name: 'day', type: 'str', value: '2025-06-01', help: 'UTC' },
  { name: 'workers', type: 'int', value: '2', help: '' },
  { name: 'plot', type: 'bool', value: 'True', help: 'draw it' },
  { name: 'level', type: 'none', value: '', help: 'None: the first level' }
];

describe('the template form', () => {
  it('starts from the defaults and keeps what was typed', () => {
    const fields = formFields(parameters, { workers: '8' });
    expect(fields.map(f => [f.name, f.value])).toEqual([
      ['day', '2025-06-01'],
      ['workers', '8'],
      ['plot', 'True'],
      ['level', '']
    ]);
  });

  it('offers a choice for booleans and says what each field takes', () => {
    const [day, workers, plot, level] = formFields(parameters);
    expect(plot.kind).toBe('choice');
    expect(plot.choices).toEqual(['True', 'False']);
    expect(day.kind).toBe('text');
    expect(day.hint).toBe('UTC — text');
    expect(workers.hint).toBe('a whole number');
    expect(level.hint).toBe('None: the first level — empty for None, or a value');
  });
});
