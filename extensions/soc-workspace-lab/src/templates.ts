/**
 * The "SOC templates" section of the launcher: one card per notebook template. A card opens
 * a form of the template's parameters; the server writes a copy with those values into the
 * home folder (papermill's parameterize), which then opens.
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { notebookIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { CatalogAPI, TemplateInfo } from './api';
import { ServerError } from './request';
import { formFields } from './templateFields';

export const TEMPLATES_CATEGORY = 'SOC templates';

interface FormValue {
  values: Record<string, string>;
  notebook: string;
}

/** The dialog's body: one field per parameter, and the new notebook's name. */
export class TemplateForm extends Widget implements Dialog.IBodyWidget<FormValue> {
  constructor(template: TemplateInfo, typed: FormValue, problem: string) {
    super({ node: document.createElement('form') });
    this.addClass('soc-TemplateForm');
    // Enter in a field accepts the dialog; the form itself never submits.
    this.node.addEventListener('submit', event => event.preventDefault());
    if (template.description) {
      const about = document.createElement('p');
      about.textContent = template.description;
      this.node.appendChild(about);
    }
    if (problem) {
      const error = document.createElement('div');
      error.className = 'soc-Error';
      error.setAttribute('role', 'alert');
      error.textContent = problem;
      this.node.appendChild(error);
    }
    for (const field of formFields(template.parameters, typed.values)) {
      let input: HTMLInputElement | HTMLSelectElement;
      if (field.kind === 'choice') {
        input = document.createElement('select');
        for (const choice of field.choices) {
          input.appendChild(new Option(choice, choice));
        }
      } else {
        input = document.createElement('input');
        input.type = 'text';
        input.placeholder = field.value === '' ? 'None' : '';
      }
      input.name = field.name;
      input.value = field.value;
      input.dataset.parameter = field.name;
      this.node.appendChild(this.row(field.label, input, field.hint));
    }
    const name = document.createElement('input');
    name.type = 'text';
    name.name = 'notebook-name';
    name.value = typed.notebook;
    this.node.appendChild(this.row('Save as', name, 'a new notebook in your home folder'));
  }

  private row(label: string, input: HTMLElement, hint: string): HTMLElement {
    const row = document.createElement('label');
    row.className = 'soc-TemplateForm-row';
    const name = document.createElement('span');
    name.className = 'soc-TemplateForm-name';
    name.textContent = label;
    const help = document.createElement('span');
    help.className = 'soc-TemplateForm-hint';
    help.textContent = hint;
    row.append(name, input, help);
    return row;
  }

  getValue(): FormValue {
    const values: Record<string, string> = {};
    for (const input of this.node.querySelectorAll<HTMLInputElement | HTMLSelectElement>(
      '[data-parameter]'
    )) {
      values[input.dataset.parameter!] = input.value;
    }
    const notebook = this.node.querySelector<HTMLInputElement>('[name="notebook-name"]')!;
    return { values, notebook: notebook.value };
  }
}

/** Ask for the parameters until the server accepts them (or the user cancels). */
async function createFromTemplate(
  app: JupyterFrontEnd,
  api: CatalogAPI,
  template: TemplateInfo
): Promise<void> {
  let typed: FormValue = { values: {}, notebook: template.suggested_name };
  let problem = '';
  for (;;) {
    const result = await showDialog({
      title: `New notebook from “${template.title}”`,
      body: new TemplateForm(template, typed, problem),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Create' })],
      focusNodeSelector: 'input'
    });
    if (!result.button.accept || !result.value) {
      return;
    }
    typed = result.value;
    try {
      const created = await api.createFromTemplate(template.name, typed.values, typed.notebook);
      await app.commands.execute('docmanager:open', { path: created.path });
      return;
    } catch (error) {
      if (error instanceof ServerError && error.status < 500) {
        problem = error.message; // a value to change: show the form again with it
        continue;
      }
      await showErrorMessage('The notebook could not be created', error as Error);
      return;
    }
  }
}

/** One launcher card (and command) per template the server lists. */
export async function addTemplateCards(
  app: JupyterFrontEnd,
  launcher: ILauncher,
  api: CatalogAPI
): Promise<void> {
  const { templates } = await api.templates();
  templates.forEach((template, rank) => {
    const command = `soc-workspace-lab:template-${template.name}`;
    app.commands.addCommand(command, {
      label: template.title,
      caption: template.description,
      icon: notebookIcon,
      execute: () => createFromTemplate(app, api, template)
    });
    launcher.add({ command, category: TEMPLATES_CATEGORY, rank });
  });
}
