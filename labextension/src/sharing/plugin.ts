import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { FileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { shareIcon } from '@jupyterlab/ui-components';

import { CommandIDs, LabCommandIDs } from '../commands';
import { requestAPI } from '../request';
import { ISharingSettings, PluginSettings, SHARING_DEFAULTS } from '../settings';
import { ICS3Session, IScienceMeshPanel, SessionState } from '../tokens';
import { IReceivedShare, mountPath, SharingAPI } from './api';
import { IZenodoPublication, openShareDialog } from './dialog';
import { SharesModel } from './model';
import { ShareNotifier } from './notify';
import { IPublishAction, SharesView } from './view';
import { ProjectsModel, ProjectsView } from './projects';
import { openMembersDialog } from './members';

const SHARING_PLUGIN_ID = 'mesh-zenodo:sharing';

/**
 * "Publish…" on folder entries: the publishing plugin's command, when it is there.
 */
function publishAction(app: JupyterFrontEnd): IPublishAction {
  return {
    available: () => app.commands.hasCommand(CommandIDs.publishFolder),
    run: path =>
      void app.commands
        .execute(CommandIDs.publishFolder, { path })
        .catch(error => Notification.error((error as Error).message, { autoClose: 6000 }))
  };
}

/**
 * Where a folder was published on Zenodo (`GET /mesh-zenodo/zenodo/publish`,
 * which the publishing plugin serves), or null.
 */
function zenodoPublication(app: JupyterFrontEnd): (path: string) => Promise<IZenodoPublication | null> {
  return async path => {
    if (!app.commands.hasCommand(CommandIDs.publishFolder)) {
      return null;
    }
    const answer = await requestAPI<{ previous: IZenodoPublication | null }>(
      `zenodo/publish?${new URLSearchParams({ path, brief: '1' }).toString()}`,
      app.serviceManager.serverSettings
    );
    return answer.previous ?? null;
  };
}

/**
 * Sharing: the "Share…" command (file browsers' context menu, My Files
 * included), its dialog, the Shares tab of the ScienceMesh panel, and the
 * notifications of new shares.
 */
export const sharingPlugin: JupyterFrontEndPlugin<void> = {
  id: SHARING_PLUGIN_ID,
  description: 'Share files and folders with ScienceMesh users; the Shares tab; notifications of new shares.',
  autoStart: true,
  requires: [IScienceMeshPanel, ICS3Session, IFileBrowserFactory, IDocumentManager],
  optional: [ITranslator, ISettingRegistry, IStateDB, ICommandPalette],
  activate: async (
    app: JupyterFrontEnd,
    panel: IScienceMeshPanel,
    session: ICS3Session,
    fileBrowserFactory: IFileBrowserFactory,
    docManager: IDocumentManager,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    state: IStateDB | null,
    palette: ICommandPalette | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('mesh_zenodo');
    const settings = new PluginSettings<ISharingSettings>(SHARING_DEFAULTS);
    await settings.load(registry, SHARING_PLUGIN_ID);

    const api = new SharingAPI(app.serviceManager.serverSettings);
    const model = new SharesModel(api, { interval: settings.composite.pollInterval * 1000 });
    settings.changed.connect((sender, composite) => model.setInterval(composite.pollInterval * 1000));

    const open = (share: IReceivedShare) => {
      void app.commands
        .execute(LabCommandIDs.goToPath, { path: mountPath(share) })
        .catch(error => Notification.error((error as Error).message, { autoClose: 6000 }));
    };
    const manage = (path: string) =>
      void openShareDialog({
        path,
        api,
        contents: app.serviceManager.contents,
        shares: model,
        session,
        trans,
        page: 'shares',
        zenodoPublication: zenodoPublication(app)
      });

    panel.addTab({
      id: 'shares',
      label: trans.__('Shares'),
      caption: trans.__('Shared with me and shared by me'),
      rank: 200,
      create: () => new SharesView({ model, trans, open, manage, publish: publishAction(app) })
    });

    // notifications and polling only with a CS3 session (not on local files)
    let notifier: ShareNotifier | null = null;
    const onSession = (sender: ICS3Session, current: SessionState) => {
      if (current.kind !== 'connected' || notifier) {
        return;
      }
      notifier = new ShareNotifier({
        model,
        trans,
        state,
        user: current.session.user.username,
        enabled: () => settings.composite.notify,
        open
      });
      model.start();
    };
    session.stateChanged.connect(onSession);
    onSession(session, session.state);

    // the browser a context menu was opened on, else the current one
    const browserOf = (): FileBrowser | null => {
      const node = app.contextMenuHitTest(n => n.classList.contains('jp-FileBrowser'));
      const hit = node ? fileBrowserFactory.tracker.find(w => w.node === node) : undefined;
      return hit ?? fileBrowserFactory.tracker.currentWidget;
    };
    const selectedPath = (args: Record<string, unknown>): string | null => {
      if (typeof args.path === 'string' && args.path) {
        return args.path;
      }
      const browser = browserOf();
      const first = browser?.selectedItems().next();
      const path = first && !first.done ? first.value.path : null;
      return path ? docManager.services.contents.localPath(path) : null;
    };

    app.commands.addCommand(CommandIDs.share, {
      label: trans.__('Share…'),
      caption: trans.__('Share with ScienceMesh users and groups'),
      icon: args => (args['isPalette'] ? undefined : shareIcon),
      isVisible: () => session.state.kind === 'connected',
      isEnabled: () => session.state.kind === 'connected',
      execute: args => {
        const path = selectedPath(args);
        if (!path) {
          Notification.warning(trans.__('Select a file or folder to share first.'), { autoClose: 4000 });
          return;
        }
        return openShareDialog({
          path,
          api,
          contents: app.serviceManager.contents,
          shares: model,
          session,
          trans,
          zenodoPublication: zenodoPublication(app)
        });
      }
    });

    app.commands.addCommand(CommandIDs.openShares, {
      label: trans.__('Show Shares'),
      caption: trans.__('Show what is shared with you and by you'),
      execute: () => {
        void app.commands.execute(CommandIDs.openScienceMesh).then(() => panel.select('shares'));
      }
    });
    palette?.addItem({ command: CommandIDs.openShares, category: trans.__('ScienceMesh') });
  }
};

/**
 * The Projects tab: the user's project spaces with role and quota; open one;
 * create one.
 */
export const projectsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mesh-zenodo:projects',
  description: 'The Projects tab of the ScienceMesh panel: project spaces.',
  autoStart: true,
  requires: [IScienceMeshPanel],
  optional: [ITranslator],
  activate: (app: JupyterFrontEnd, panel: IScienceMeshPanel, translator: ITranslator | null) => {
    const trans = (translator ?? nullTranslator).load('mesh_zenodo');
    const model = new ProjectsModel(app.serviceManager.serverSettings);
    const api = new SharingAPI(app.serviceManager.serverSettings);
    const open = (path: string) =>
      void app.commands
        .execute(LabCommandIDs.goToPath, { path })
        .catch(error => Notification.error((error as Error).message, { autoClose: 6000 }));
    panel.addTab({
      id: 'projects',
      label: trans.__('Projects'),
      caption: trans.__('Your project spaces'),
      rank: 300,
      create: () =>
        new ProjectsView(
          model,
          trans,
          open,
          space =>
            void openMembersDialog({
              space,
              settings: app.serviceManager.serverSettings,
              api,
              trans,
              changed: () => void model.refresh()
            }),
          publishAction(app)
        )
    });
  }
};
