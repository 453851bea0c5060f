import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ISanitizer, Sanitizer } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ZenodoAPI } from './api';
import { zenodoIcon } from './icons';
import { ZenodoModel } from './model';
import { ZenodoPanel, ZENODO_PANEL_ID } from './panel';
import { addProvenanceCommand } from './provenance';
import { PullManager } from './pulls';

export const OPEN_ZENODO_COMMAND = 'mesh-zenodo:open-zenodo';

/**
 * The Zenodo side panel (Login / Search / Upload), its palette command and
 * the "Zenodo Provenance" item of the file browser's context menu.
 */
export const zenodoPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mesh-zenodo:zenodo',
  description: 'A side panel to search Zenodo and pull records into ScienceMesh storage.',
  autoStart: true,
  requires: [IFileBrowserFactory, IDocumentManager],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator, ISanitizer],
  activate: (
    app: JupyterFrontEnd,
    fileBrowserFactory: IFileBrowserFactory,
    docManager: IDocumentManager,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    sanitizer: ISanitizer | null
  ) => {
    const api = new ZenodoAPI(app.serviceManager.serverSettings);
    const model = new ZenodoModel(api);
    const pulls = new PullManager(app, api, docManager);
    const panel = new ZenodoPanel({
      app,
      api,
      model,
      pulls,
      docManager,
      sanitizer: sanitizer ?? new Sanitizer(),
      translator: translator ?? nullTranslator
    });

    app.shell.add(panel, 'left', { rank: 210 });
    restorer?.add(panel, ZENODO_PANEL_ID);

    app.commands.addCommand(OPEN_ZENODO_COMMAND, {
      label: 'Open Zenodo Panel',
      caption: 'Search Zenodo and pull records into your ScienceMesh storage',
      icon: args => (args['isPalette'] ? undefined : zenodoIcon),
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({ command: OPEN_ZENODO_COMMAND, category: 'Zenodo' });

    addProvenanceCommand(app, api, fileBrowserFactory);
    palette?.addItem({ command: 'mesh-zenodo:zenodo-provenance', category: 'Zenodo' });
  }
};
