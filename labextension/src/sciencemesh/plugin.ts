import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { CommandIDs } from '../commands';
import { sciencemeshIcon } from '../icons';
import { IScienceMeshSettings, PluginSettings, SCIENCEMESH_DEFAULTS } from '../settings';
import { failureTitle, SessionModel } from '../session';
import { ICS3Session, IScienceMeshPanel, SessionState } from '../tokens';
import { MyFilesView } from './myfiles';
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
    notifyWhenFilesAreUnreachable(app, session, trans);
    void session.refresh();
    return session;
  }
};

/**
 * When Lab's files are on a CS3 storage that cannot be used (unreachable, or
 * the sign-in refused), Lab's file browsers are empty: say why in a Lab
 * notification, once until the session works again (not on every refresh),
 * and take it back when the session works again.
 */
function notifyWhenFilesAreUnreachable(
  app: JupyterFrontEnd,
  session: ICS3Session,
  trans: TranslationBundle
): void {
  let shown: string | null = null;
  session.stateChanged.connect((sender: ICS3Session, state: SessionState) => {
    if (state.kind === 'connected' || state.kind === 'local') {
      if (shown) {
        Notification.dismiss(shown);
        shown = null;
      }
      return;
    }
    if (state.kind !== 'error' || state.failure.contents !== 'cs3' || shown) {
      return;
    }
    const failure = state.failure;
    const where = failure.storage?.gateway;
    // short, so that Lab shows it whole; the server's reason is one click away
    const what = where ? trans.__('The CS3 storage at %1', where) : trans.__('The CS3 storage');
    const text =
      failure.status === 401
        ? trans.__("%1 refused the sign-in, so Lab's file browsers are empty.", what)
        : trans.__("%1 cannot be reached, so Lab's file browsers are empty.", what);
    shown = Notification.warning(text, {
      autoClose: false,
      actions: [
        {
          label: trans.__('Details'),
          caption: trans.__('Why the storage cannot be used'),
          callback: event => {
            event.preventDefault(); // keep the notification
            void showDialog({
              title: failureTitle(failure, trans),
              body: failure.message,
              buttons: [Dialog.okButton({ label: trans.__('Close') })]
            });
          }
        },
        {
          label: trans.__('Open ScienceMesh'),
          caption: trans.__('Show the ScienceMesh panel, with its Retry button'),
          callback: () => void app.commands.execute(CommandIDs.openScienceMesh)
        }
      ]
    });
  });
}

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
        new MyFilesView(context, {
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
