/**
 * soc-workspace's JupyterLab extension: the SOC data browser (left sidebar) and the
 * "SOC templates" section of the launcher. The data come from the server part of the same
 * package (soc_workspace_lab), which answers from soc_workspace's catalog.
 */

import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, MainAreaWidget } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { CatalogAPI } from './api';
import { DataBrowser } from './browser';
import { Selection, openSelectionCode } from './code';
import { QuicklookPanel } from './quicklook';
import { addTemplateCards } from './templates';

/** Put code into the active notebook (a new one when none is open) as a code cell. */
async function insertIntoNotebook(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  code: string
): Promise<void> {
  let panel: NotebookPanel | null = tracker.currentWidget;
  if (!panel) {
    panel = (await app.commands.execute('notebook:create-new', {
      kernelName: 'python3'
    })) as NotebookPanel;
  }
  await panel.context.ready;
  app.shell.activateById(panel.id);
  const notebook = panel.content;
  const active = notebook.activeCell;
  // An empty cell (a new notebook's first one) is filled; otherwise a cell is added below.
  const empty = active !== null && active.model.sharedModel.getSource().trim() === '';
  if (!empty) {
    NotebookActions.insertBelow(notebook);
  }
  if (notebook.activeCell?.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  notebook.activeCell!.model.sharedModel.setSource(code);
  notebook.activeCell!.node.scrollIntoView({ block: 'nearest' });
}

const dataBrowser: JupyterFrontEndPlugin<void> = {
  id: 'soc-workspace-lab:data-browser',
  description: 'The SOC data browser: find catalog files, insert code, quicklooks.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null
  ) => {
    const api = new CatalogAPI(app.serviceManager.serverSettings);
    const browser = new DataBrowser(api, {
      insertCode: (selection: Selection) =>
        insertIntoNotebook(app, tracker, openSelectionCode(selection)),
      quicklook: (selection: Selection) => {
        const content = new QuicklookPanel(api, selection);
        const widget = new MainAreaWidget({ content });
        widget.id = `soc-quicklook-${Date.now()}`;
        widget.title.label = content.title.label;
        widget.title.icon = content.title.icon;
        widget.title.caption = content.title.caption;
        app.shell.add(widget, 'main', { mode: 'split-right' });
        void content.load();
      },
      copy: (text: string) => Clipboard.copyToSystem(text)
    });
    app.shell.add(browser, 'left', { rank: 150 });
    restorer?.add(browser, browser.id);
  }
};

const templateLauncher: JupyterFrontEndPlugin<void> = {
  id: 'soc-workspace-lab:templates',
  description: 'The "SOC templates" section of the launcher.',
  autoStart: true,
  requires: [ILauncher],
  activate: (app: JupyterFrontEnd, launcher: ILauncher) => {
    const api = new CatalogAPI(app.serviceManager.serverSettings);
    addTemplateCards(app, launcher, api).catch(error =>
      console.warn('soc-workspace-lab: no template cards:', error)
    );
  }
};

export default [dataBrowser, templateLauncher];
