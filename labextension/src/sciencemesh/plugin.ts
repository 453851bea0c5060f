import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDefaultFileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../commands';
import { sciencemeshIcon } from '../icons';
import { SessionModel } from '../session';
import { ScienceMeshPanel, SCIENCEMESH_PANEL_ID } from './panel';
import { streamLargeUploads } from './upload';

/**
 * The ScienceMesh side panel and its palette command.
 */
export const sciencemeshPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mesh-zenodo:sciencemesh',
  description: 'A side panel for ScienceMesh (CS3) storage.',
  autoStart: true,
  requires: [IFileBrowserFactory],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    fileBrowserFactory: IFileBrowserFactory,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    defaultBrowser: IDefaultFileBrowser | null
  ) => {
    const settings = app.serviceManager.serverSettings;
    const session = new SessionModel(settings);

    // Large uploads stream straight into the CS3 storage once we know Lab's files are there.
    const streamUploads = () => {
      if (session.session?.contents !== 'cs3') {
        return;
      }
      if (defaultBrowser) {
        streamLargeUploads(defaultBrowser.model, settings);
      }
      fileBrowserFactory.tracker.forEach(browser => streamLargeUploads(browser.model, settings));
    };
    session.stateChanged.connect(streamUploads);
    fileBrowserFactory.tracker.widgetAdded.connect(streamUploads);
    void session.refresh().catch(() => undefined);
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
