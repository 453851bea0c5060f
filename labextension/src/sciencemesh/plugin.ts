import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../commands';
import { sciencemeshIcon } from '../icons';
import { SessionModel } from '../session';
import { ScienceMeshPanel, SCIENCEMESH_PANEL_ID } from './panel';

/**
 * The ScienceMesh side panel and its palette command.
 */
export const sciencemeshPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mesh-zenodo:sciencemesh',
  description: 'A side panel for ScienceMesh (CS3) storage.',
  autoStart: true,
  requires: [IFileBrowserFactory],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    fileBrowserFactory: IFileBrowserFactory,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ) => {
    const session = new SessionModel(app.serviceManager.serverSettings);
    const panel = new ScienceMeshPanel({
      app,
      session,
      fileBrowserFactory,
      translator: translator ?? nullTranslator
    });

    app.shell.add(panel, 'left', { rank: 200 });
    restorer?.add(panel, SCIENCEMESH_PANEL_ID);

    app.commands.addCommand(CommandIDs.openScienceMesh, {
      label: 'Open ScienceMesh Panel',
      caption: 'Show the ScienceMesh (CS3 storage) side panel',
      icon: args => (args['isPalette'] ? undefined : sciencemeshIcon),
      execute: () => {
        // Expands the left sidebar if needed and selects the panel.
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({
      command: CommandIDs.openScienceMesh,
      category: 'ScienceMesh'
    });
  }
};
