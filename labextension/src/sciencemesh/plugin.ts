import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../commands';
import { sciencemeshIcon } from '../icons';
import { IScienceMeshSettings, PluginSettings, SCIENCEMESH_DEFAULTS } from '../settings';
import { SessionModel } from '../session';
import { ICS3Session, IScienceMeshPanel } from '../tokens';
import { createMyFiles } from './myfiles';
import { ScienceMeshPanel, SCIENCEMESH_PANEL_ID } from './panel';

/**
 * The CS3 session, shared by every plugin.
 */
export const sessionPlugin: JupyterFrontEndPlugin<ICS3Session> = {
  id: 'mesh-zenodo:session',
  description: 'Who is signed in to the CS3 storage, and which storage.',
  autoStart: true,
  provides: ICS3Session,
  optional: [ITranslator],
  activate: (app: JupyterFrontEnd, translator: ITranslator | null): ICS3Session => {
    const trans = (translator ?? nullTranslator).load('mesh_zenodo');
    const session = new SessionModel(app.serviceManager.serverSettings, trans);
    void session.refresh();
    return session;
  }
};

/**
 * The ScienceMesh side panel with its My Files tab, and its palette command.
 */
export const sciencemeshPlugin: JupyterFrontEndPlugin<IScienceMeshPanel> = {
  id: 'mesh-zenodo:sciencemesh',
  description: 'A side panel for ScienceMesh (CS3) storage.',
  autoStart: true,
  provides: IScienceMeshPanel,
  requires: [ICS3Session, IFileBrowserFactory, IDocumentManager],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator, ISettingRegistry, IStateDB],
  activate: async (
    app: JupyterFrontEnd,
    session: ICS3Session,
    fileBrowserFactory: IFileBrowserFactory,
    docManager: IDocumentManager,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    state: IStateDB | null
  ): Promise<IScienceMeshPanel> => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('mesh_zenodo');
    const settings = new PluginSettings<IScienceMeshSettings>(SCIENCEMESH_DEFAULTS);
    await settings.load(registry, sciencemeshPlugin.id);

    const panel = new ScienceMeshPanel({
      app,
      session,
      fileBrowserFactory,
      docManager,
      translator
    });
    panel.addTab({
      id: 'myfiles',
      label: trans.__('My Files'),
      caption: trans.__('Your files on the CS3 storage'),
      rank: 100,
      create: context =>
        createMyFiles(context, {
          state,
          // large uploads stream straight into the CS3 storage when Lab's files are there
          shouldStream: () =>
            settings.composite.streamLargeUploads && session.session?.contents === 'cs3'
        })
    });

    app.shell.add(panel, 'left', { rank: 200 });
    restorer?.add(panel, SCIENCEMESH_PANEL_ID);

    app.commands.addCommand(CommandIDs.openScienceMesh, {
      label: trans.__('Open ScienceMesh Panel'),
      caption: trans.__('Show the ScienceMesh (CS3 storage) side panel'),
      icon: args => (args['isPalette'] ? undefined : sciencemeshIcon),
      execute: () => {
        // Expands the left sidebar if needed and selects the panel.
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({
      command: CommandIDs.openScienceMesh,
      category: trans.__('ScienceMesh')
    });
    return panel;
  }
};

/**
 * The Shares and Projects tabs of the ScienceMesh panel, disabled until
 * sharing arrives: the sharing plugin replaces this one and adds its own tabs.
 */
export const sharingPlaceholderPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mesh-zenodo:sharing-placeholder',
  description: 'Disabled Shares and Projects tabs in the ScienceMesh panel, until sharing arrives.',
  autoStart: true,
  requires: [IScienceMeshPanel],
  optional: [ITranslator],
  activate: (app: JupyterFrontEnd, panel: IScienceMeshPanel, translator: ITranslator | null) => {
    const trans = (translator ?? nullTranslator).load('mesh_zenodo');
    const later = trans.__('Sharing arrives with the sharing feature');
    panel.addTab({ id: 'shares', label: trans.__('Shares'), rank: 200, disabledReason: later });
    panel.addTab({ id: 'projects', label: trans.__('Projects'), rank: 300, disabledReason: later });
  }
};
