/**
 * The form of a template's parameters: which fields, with what values and hints. The server
 * reads the parameters cell (papermill's) and checks and converts what is typed.
 */

/** One parameter of a template, as `GET soc-workspace-lab/templates` lists it. */
export interface TemplateParameter {
  name: string;
  /** The type of the default value: str, int, float, bool, none, list, dict. */
  type: string;
  /** The default as the form shows it (text without quotes, numbers as written). */
  value: string;
  help: string;
}

export interface Field {
  name: string;
  label: string;
  value: string;
  /** `text` or `choice` (true/false). */
  kind: 'text' | 'choice';
  choices: string[];
  hint: string;
}

const TYPE_HINTS: Record<string, string> = {
  str: 'text',
  int: 'a whole number',
  float: 'a number',
  bool: 'True or False',
  none: 'empty for None, or a value',
  list: 'a Python list, e.g. [1, 2]',
  dict: 'a Python dict, e.g. {"a": 1}'
};

/** The form's fields, with the values typed before (or the template's defaults). */
export function formFields(
  parameters: TemplateParameter[],
  typed: Record<string, string> = {}
): Field[] {
  return parameters.map(p => {
    const kind = p.type === 'bool' ? 'choice' : 'text';
    const hint = [p.help, TYPE_HINTS[p.type]].filter(Boolean).join(' — ');
    return {
      name: p.name,
      label: p.name,
      value: typed[p.name] ?? p.value,
      kind,
      choices: kind === 'choice' ? ['True', 'False'] : [],
      hint
    };
  });
}
