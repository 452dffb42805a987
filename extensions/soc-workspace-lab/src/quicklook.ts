/**
 * A quicklook of a selection, in a panel beside the notebook: a PNG the server draws from the
 * files the catalog finds (read with soc_workspace's own readers), one variable at a time.
 */

import { Widget } from '@lumino/widgets';

import { CatalogAPI, QuicklookSummary } from './api';
import { Selection } from './code';
import { dataBrowserIcon } from './icons';
import { describeRange } from './timeRange';

export class QuicklookPanel extends Widget {
  private readonly status: HTMLParagraphElement;
  private readonly picker: HTMLSelectElement;
  private readonly image: HTMLImageElement;
  private imageUrl: string | null = null;
  private request = 0;

  constructor(
    private readonly api: CatalogAPI,
    readonly selection: Selection
  ) {
    super();
    this.addClass('soc-Quicklook');
    this.title.label = `Quicklook: ${selection.title}`;
    this.title.caption = `${selection.title}, ${describeRange(selection.range)}`;
    this.title.icon = dataBrowserIcon;
    this.title.closable = true;

    const heading = document.createElement('h2');
    heading.textContent = this.title.caption;
    const label = document.createElement('label');
    label.textContent = 'Variable ';
    this.picker = document.createElement('select');
    this.picker.name = 'variable';
    this.picker.addEventListener('change', () => void this.draw(this.picker.value));
    label.appendChild(this.picker);
    this.status = document.createElement('p');
    this.status.className = 'soc-Status';
    this.image = document.createElement('img');
    this.image.alt = `Quicklook of ${selection.title}`;
    this.node.append(heading, label, this.status, this.image);
  }

  /** Ask the server which variables can be drawn, then draw the first. */
  async load(): Promise<void> {
    this.status.textContent = 'Opening the files…';
    let summary: QuicklookSummary;
    try {
      summary = await this.api.quicklookSummary(this.selection.dataset, this.selection.range);
    } catch (error) {
      this.showError(error);
      return;
    }
    this.picker.replaceChildren(
      ...summary.variables.map(v => {
        const option = document.createElement('option');
        option.value = v.name;
        const name = v.units ? `${v.name} [${v.units}]` : v.name;
        option.textContent = `${name} (${v.kind})`;
        option.title = v.description;
        return option;
      })
    );
    if (!summary.variable) {
      this.status.textContent = `${summary.files} files, but no variable along time to plot.`;
      return;
    }
    this.picker.value = summary.variable;
    await this.draw(summary.variable);
  }

  private async draw(variable: string): Promise<void> {
    const request = ++this.request;
    this.status.textContent = `Drawing ${variable}…`;
    this.node.classList.add('soc-mod-busy');
    try {
      const blob = await this.api.quicklookImage(
        this.selection.dataset,
        this.selection.range,
        variable
      );
      if (request !== this.request) {
        return; // another variable was chosen meanwhile
      }
      this.setImage(URL.createObjectURL(blob));
      this.image.dataset.variable = variable;
      this.status.textContent = '';
    } catch (error) {
      if (request === this.request) {
        this.showError(error);
      }
    } finally {
      this.node.classList.remove('soc-mod-busy');
    }
  }

  private showError(error: unknown): void {
    this.status.textContent = error instanceof Error ? error.message : String(error);
    this.status.setAttribute('role', 'alert');
    this.status.classList.add('soc-Error');
  }

  private setImage(url: string | null): void {
    if (this.imageUrl) {
      URL.revokeObjectURL(this.imageUrl);
    }
    this.imageUrl = url;
    if (url) {
      this.image.src = url;
    } else {
      this.image.removeAttribute('src');
    }
  }

  dispose(): void {
    this.setImage(null);
    super.dispose();
  }
}
