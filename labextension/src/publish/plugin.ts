import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { FileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { CommandIDs } from '../commands';
import { isWebUrl } from '../dom';
import { zenodoIcon } from '../icons';
import { ICS3Session, IZenodoJobs, IZenodoPanel } from '../tokens';
import { LOGIN_TAB, UPLOAD_TAB } from '../zenodo/panel';
import { FolderPicker } from '../zenodo/pulls/picker';
import { PublishAPI } from './api';
import { openPublishDialog } from './dialog';
import { PublishManager, PublishTask } from './model';
import { PublishView } from './view';

/**
 * Publishing folders to Zenodo: the "Publish to Zenodo…" command (file
 * browser's context menu for folders, the palette for the current folder,
 * the Shares and Projects tabs), its dialog, and the Publish tab of the
 * Zenodo panel with the publications of this server.
 */
export const publishingPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mesh-zenodo:publishing',
  description: 'Publish folders of the ScienceMesh storage to Zenodo; the Publish tab of the Zenodo panel.',
  autoStart: true,
  requires: [IZenodoPanel, IZenodoJobs, IFileBrowserFactory, IDocumentManager],
  optional: [ICS3Session, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    panel: IZenodoPanel,
    jobs: IZenodoJobs,
    fileBrowserFactory: IFileBrowserFactory,
    docManager: IDocumentManager,
    session: ICS3Session | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('mesh_zenodo');
    const api = new PublishAPI(app.serviceManager.serverSettings, trans);
    const manager = new PublishManager(api, jobs);
    const zenodo = panel.context.model;

    const showTab = (tab: string) => {
      app.shell.activateById(panel.id);
      panel.select(tab);
      // shown for the first time, the panel goes to Search once it knows the
      // user is signed in: come back to the tab asked for after that
      void zenodo.refresh().then(() => panel.select(tab));
    };
    const signIn = () => showTab(LOGIN_TAB);
    const showProgress = () => showTab(UPLOAD_TAB);

    const open = (path: string, extra: { task?: PublishTask } = {}) =>
      openPublishDialog({
        path,
        manager,
        zenodo,
        session,
        trans,
        signIn,
        form: extra.task?.form ?? null,
        errors: extra.task?.fieldErrors ?? []
      });
    const edit = (task: PublishTask) => void open(task.path, { task });

    let lastFolder: string | undefined;
    const publishFolder = async () => {
      const path = await chooseFolder(docManager, trans, lastFolder ?? currentFolder());
      if (path === null) {
        return;
      }
      if (!path) {
        Notification.warning(trans.__('Choose a folder: the top folder cannot be published.'), {
          autoClose: 5000
        });
        return;
      }
      lastFolder = path;
      await open(path);
    };

    panel.addTab({
      id: UPLOAD_TAB,
      label: trans.__('Publish'),
      caption: trans.__('Publish a folder to Zenodo; the publications of this server'),
      rank: 300,
      create: () => new PublishView({ manager, zenodo, trans, publishFolder: () => void publishFolder(), signIn, edit })
    });

    manager.added.connect((sender, task) => notify(task, trans, showProgress, edit));

    // the browser a context menu was opened on, else the current one
    const browserOf = (): FileBrowser | null => {
      const node = app.contextMenuHitTest(n => n.classList.contains('jp-FileBrowser'));
      const hit = node ? fileBrowserFactory.tracker.find(w => w.node === node) : undefined;
      return hit ?? fileBrowserFactory.tracker.currentWidget;
    };
    const contents = docManager.services.contents;
    const currentFolder = (): string => {
      const browser = fileBrowserFactory.tracker.currentWidget;
      return browser ? contents.localPath(browser.model.path) : '';
    };
    const selectedFolder = (): string | null => {
      const browser = browserOf();
      const first = browser?.selectedItems().next();
      const item = first && !first.done ? first.value : null;
      return item && item.type === 'directory' ? contents.localPath(item.path) : null;
    };

    app.commands.addCommand(CommandIDs.publishFolder, {
      label: trans.__('Publish to Zenodo…'),
      caption: trans.__('Publish this folder as a Zenodo record, with a DOI'),
      icon: args => (args['isPalette'] || args['current'] ? undefined : zenodoIcon),
      isVisible: () => !session || session.state.kind !== 'local',
      isEnabled: () => !session || session.state.kind === 'connected',
      execute: args => {
        const path =
          typeof args.path === 'string' && args.path
            ? args.path
            : args.current
              ? currentFolder()
              : (selectedFolder() ?? currentFolder());
        const folder = path.replace(/^\/+|\/+$/g, '');
        if (!folder) {
          Notification.warning(
            trans.__('Open or select a folder to publish first: the top folder cannot be published.'),
            { autoClose: 5000 }
          );
          return;
        }
        return open(folder);
      }
    });
    app.commands.addCommand(CommandIDs.openPublish, {
      label: trans.__('Show Publications to Zenodo'),
      caption: trans.__('The Publish tab of the Zenodo panel'),
      execute: showProgress
    });
    const category = trans.__('Zenodo');
    palette?.addItem({ command: CommandIDs.publishFolder, category, args: { current: true } });
    palette?.addItem({ command: CommandIDs.openPublish, category });
  }
};

/**
 * "Publishing /folder to Zenodo…", then what came of it (the DOI and a link,
 * or why it failed), in one Lab notification.
 */
function notify(
  task: PublishTask,
  trans: TranslationBundle,
  showProgress: () => void,
  edit: (task: PublishTask) => void
): void {
  const id = Notification.emit(trans.__('Publishing %1 to Zenodo…', task.displayPath), 'in-progress', {
    autoClose: false,
    actions: [
      {
        label: trans.__('Show progress'),
        displayType: 'link',
        callback: event => {
          event.preventDefault(); // the notification stays, to say how it ended
          showProgress();
        }
      }
    ]
  });
  // the same notification says how it ended (a new one if the user closed it)
  const update = (
    type: 'success' | 'warning' | 'error',
    message: string,
    options: { autoClose: number | false; actions: Notification.IAction[] }
  ) => {
    if (!Notification.update({ id, type, message, ...options })) {
      Notification.emit(message, type, options);
    }
  };
  void task.ended.then(() => {
    const result = task.result;
    const openRecord =
      result?.url && isWebUrl(result.url)
        ? [
            {
              label: trans.__('Open on Zenodo'),
              displayType: 'link' as const,
              callback: () => window.open(result.url!, '_blank', 'noopener,noreferrer')
            }
          ]
        : [];
    switch (task.state) {
      case 'done':
        update(
          'success',
            result?.state === 'draft'
              ? trans.__(
                  'A draft of %1 is ready on Zenodo (DOI reserved: %2): review it and publish it there.',
                  task.displayPath,
                  result?.doi ?? '—'
                )
              : trans.__('Published %1 to Zenodo: DOI %2', task.displayPath, result?.doi ?? '—'),
          { autoClose: false, actions: openRecord }
        );
        break;
      case 'cancelled':
        update(
          'warning',
          trans.__(
            'Publishing %1 was cancelled. The draft stays on Zenodo; publishing again goes on with it.',
            task.displayPath
          ),
          { autoClose: 8000, actions: [] }
        );
        break;
      default: {
        const editAction = task.path
          ? [
              {
                label: task.fieldErrors.length ? trans.__('Edit and publish again') : trans.__('Try again'),
                callback: () => edit(task)
              }
            ]
          : [];
        update(
          'error',
          trans.__(
            'Publishing %1 failed: %2',
            task.displayPath,
            task.failure?.message ?? trans.__('unknown error')
          ),
          {
            autoClose: false,
            actions: [
              ...editAction,
              { label: trans.__('Show details'), callback: showProgress, displayType: 'link' }
            ]
          }
        );
      }
    }
  });
}

/**
 * Ask for the folder to publish (the folder picker of pulls).
 */
async function chooseFolder(
  docManager: IDocumentManager,
  trans: TranslationBundle,
  path: string
): Promise<string | null> {
  const picker = new FolderPicker({
    contents: docManager.services.contents,
    path,
    label: trans.__('Choose the folder to publish to Zenodo.'),
    trans
  });
  const dialog = new Dialog<Promise<string>>({
    title: trans.__('Publish a folder'),
    body: picker,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Publish this folder…'), className: 'mz-FolderPicker-select' })
    ],
    focusNodeSelector: '.mz-FolderPicker-list'
  });
  dialog.addClass('mz-PublishPicker');
  try {
    const result = await dialog.launch();
    if (!result.button.accept || result.value === null) {
      return null;
    }
    return await result.value;
  } finally {
    dialog.dispose();
  }
}
