import type { ISharedNotebook } from '@jupyter/ydoc';
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import type { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { PluginSettings } from '../settings';
import { ICS3Session, SessionState } from '../tokens';
import { DocumentsAPI, looksLikeCopy } from './api';
import { askLocked, CopyWatcher, fileName } from './locked';
import { MergeNotifier } from './notify';
import { blocksSaves, IPresenceChange, OpenDocuments } from './presence';
import { Previews } from './preview';
import { ConflictWatch, hasConflicts, openReviewDialog } from './review';

/**
 * The command ids of working together on documents.
 */
export namespace CollabCommandIDs {
  /** Review the cells a merge flagged in the current notebook (`args.path`: that notebook). */
  export const reviewMerge = 'mesh-zenodo:review-merge';
  /** "Lock for exclusive editing" (`args.path`, else the selected file or the current document). */
  export const lockExclusive = 'mesh-zenodo:lock-exclusive';
  /** Remove one's exclusive lock (`args.path`, else the selected file or the current document). */
  export const unlockExclusive = 'mesh-zenodo:unlock-exclusive';
  /** A read-only preview of a file as stored (`args.path`). */
  export const showStored = 'mesh-zenodo:show-stored';
}

/**
 * `schema/collab.json`, the settings of `mesh-zenodo:collab`.
 */
export interface ICollabSettings {
  /** Show (and advertise) who else has a document open. */
  presence: boolean;
  /** Notify of merged saves. */
  notifyMerges: boolean;
}

export const COLLAB_DEFAULTS: ICollabSettings = {
  presence: true,
  notifyMerges: true
};

const COLLAB_PLUGIN_ID = 'mesh-zenodo:collab';

/** The document widget factories that get presence (and, notebooks, the review button). */
const NOTEBOOK_FACTORY = 'Notebook';
const EDITOR_FACTORY = 'Editor';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Working together on documents saved on the CS3 storage: who else has a
 * document open (toolbar), notifications of merged saves, the review of
 * flagged cells, read-only previews of the stored version, locked files
 * (preview or work on a copy, then merge it back), and exclusive locks.
 */
export const collabPlugin: JupyterFrontEndPlugin<void> = {
  id: COLLAB_PLUGIN_ID,
  description:
    'Concurrent editing: presence, merge notifications and review, previews, locked files, exclusive locks.',
  autoStart: true,
  requires: [ICS3Session, IDocumentManager],
  optional: [ITranslator, ISettingRegistry, ICommandPalette, IFileBrowserFactory, ILabShell],
  activate: async (
    app: JupyterFrontEnd,
    session: ICS3Session,
    docManager: IDocumentManager,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    fileBrowserFactory: IFileBrowserFactory | null,
    labShell: ILabShell | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('mesh_zenodo');
    const settings = new PluginSettings<ICollabSettings>(COLLAB_DEFAULTS);
    const contents = app.serviceManager.contents;
    const api = new DocumentsAPI(app.serviceManager.serverSettings);

    // everything talks to the storage only once Lab's files are known to be on it
    const connected = new Promise<void>(resolve => {
      const check = (sender: ICS3Session, state: SessionState) => {
        if (state.kind === 'connected') {
          session.stateChanged.disconnect(check);
          resolve();
        }
      };
      session.stateChanged.connect(check);
      check(session, session.state);
    });
    const isConnected = () => session.state.kind === 'connected';

    const docs = new OpenDocuments({
      api,
      contents,
      trans,
      connected,
      enabled: () => settings.composite.presence
    });
    const previews = new Previews({
      contents,
      trans,
      add: widget => app.shell.add(widget, 'main'),
      activate: id => app.shell.activateById(id)
    });
    const open = (path: string) => {
      try {
        docManager.openOrReveal(path);
      } catch (error) {
        Notification.error(message(error), { autoClose: 8000 });
      }
    };

    // -------------------------------------------------------------- notebooks
    const notebooks = new Map<Widget, ISharedNotebook>();
    const sharedNotebook = (widget: Widget | null | undefined): ISharedNotebook | null =>
      (widget && notebooks.get(widget)) || null;
    const currentNotebook = (): IDocumentWidget | null => {
      const current = app.shell.currentWidget;
      return current && notebooks.has(current) ? (current as IDocumentWidget) : null;
    };
    const notebookWidget = (path: string): IDocumentWidget | null =>
      docs.widgets(path).find(widget => notebooks.has(widget)) ?? null;

    const review = async (path?: string): Promise<void> => {
      let widget = path ? notebookWidget(path) : currentNotebook();
      if (!widget && path) {
        const opened = docManager.openOrReveal(path, NOTEBOOK_FACTORY);
        if (opened) {
          await opened.context.ready;
          widget = opened;
        }
      }
      const notebook = sharedNotebook(widget);
      if (!widget || !notebook) {
        Notification.warning(trans.__('Open the notebook to review first.'), { autoClose: 5000 });
        return;
      }
      app.shell.activateById(widget.id);
      await openReviewDialog({ notebook, path: widget.context.path, trans });
    };

    const addReviewButton = (widget: IDocumentWidget, notebook: ISharedNotebook) => {
      const button = new ToolbarButton({
        label: trans.__('Review merged cells'),
        tooltip: trans.__('Choose which version of each cell flagged by a merge to keep'),
        className: 'mz-ReviewButton',
        dataset: { testid: 'mz-review-merge' },
        onClick: () => void review(widget.context.path)
      });
      if (!widget.toolbar.insertAfter('spacer', 'mz-review-merge', button)) {
        widget.toolbar.addItem('mz-review-merge', button);
      }
      const update = () => {
        button.setHidden(!hasConflicts(notebook));
        if (currentNotebook() === widget) {
          app.commands.notifyCommandChanged(CollabCommandIDs.reviewMerge);
        }
      };
      const watch = new ConflictWatch(notebook, update);
      update();
      widget.disposed.connect(() => {
        watch.dispose();
        button.dispose();
        notebooks.delete(widget);
      });
    };

    const extension: DocumentRegistry.WidgetExtension = {
      createNew: (widget: Widget, context: DocumentRegistry.IContext<DocumentRegistry.IModel>) => {
        const documentWidget = widget as IDocumentWidget;
        if (!documentWidget.toolbar) {
          return;
        }
        docs.track(documentWidget, context);
        const shared = context.model.sharedModel as unknown as ISharedNotebook;
        if (shared && Array.isArray(shared.cells)) {
          notebooks.set(widget, shared);
          addReviewButton(documentWidget, shared);
        }
      }
    };
    app.docRegistry.addWidgetExtension(NOTEBOOK_FACTORY, extension);
    app.docRegistry.addWidgetExtension(EDITOR_FACTORY, extension);
    labShell?.currentChanged.connect(() => app.commands.notifyCommandChanged(CollabCommandIDs.reviewMerge));

    // ----------------------------------------------------------- locked files
    /**
     * Close the widgets of `path` without asking to save them, as Lab does for
     * a deleted file: a locked original (its saves would be refused; a kernel
     * alone marks it dirty) or a copy merged into its original (and deleted).
     */
    const discard = (path: string) => {
      for (let i = 0; i < 100; i++) {
        const widget = docManager.findWidget(path, null);
        if (!widget) {
          return;
        }
        widget.dispose();
      }
    };
    const workOnCopy = async (path: string): Promise<void> => {
      try {
        const made = await api.makeCopy(path);
        discard(path);
        open(made.copy);
        Notification.info(
          trans.__('You are working on a copy of %1: merge it back when the lock is gone.', fileName(path)),
          { autoClose: 8000 }
        );
      } catch (error) {
        Notification.error(trans.__('No copy of %1: %2', fileName(path), message(error)), { autoClose: 10_000 });
      }
    };
    const preview = (path: string) => {
      discard(path);
      previews.open(path);
    };
    docs.presenceChanged.connect((sender, change: IPresenceChange) => {
      const lock = change.presence.lock;
      if (!change.first || !lock || !blocksSaves(lock)) {
        return;
      }
      void askLocked({ path: change.path, lock, trans }).then(choice => {
        if (choice === 'copy') {
          return workOnCopy(change.path);
        }
        if (choice === 'preview') {
          return preview(change.path);
        }
      });
    });

    const mergeBack = async (copy: string): Promise<void> => {
      try {
        for (const widget of docs.widgets(copy)) {
          if (widget.context.model.dirty) {
            await widget.context.save();
          }
        }
        const result = await api.mergeCopy(copy);
        discard(copy);
        const merge = result.merge ?? {};
        const conflicts = Array.isArray(merge.conflicts) ? merge.conflicts.length : 0;
        const text = merge.kind
          ? trans.__('Your copy was merged into %1: %2', result.path, merge.summary ?? '')
          : trans.__('Your copy was merged into %1', result.path);
        const actions: Notification.IAction[] = [];
        if (conflicts > 0 && result.path.endsWith('.ipynb')) {
          actions.push({
            label: trans.__('Review'),
            caption: trans.__('Choose which version of each flagged cell to keep'),
            displayType: 'accent',
            callback: () => void review(result.path)
          });
        }
        if (conflicts > 0) {
          Notification.warning(text, { autoClose: false, actions });
        } else {
          Notification.success(text, { autoClose: 10_000 });
        }
        open(result.path);
      } catch (error) {
        Notification.error(trans.__('Your copy was not merged: %1', message(error)), { autoClose: 10_000 });
      }
    };
    const offerMerge = (copy: string, original: string) => {
      if (!docs.isOpen(copy)) {
        return;
      }
      Notification.info(trans.__('The lock on %1 is gone: merge your copy back?', original), {
        autoClose: false,
        actions: [
          {
            label: trans.__('Merge'),
            caption: trans.__('Merge your copy into %1 (the copy goes to the recycle bin)', original),
            displayType: 'accent',
            callback: () => void mergeBack(copy)
          }
        ]
      });
    };
    const watchers = new Map<string, CopyWatcher>();
    docs.opened.connect((sender, path) => {
      if (!looksLikeCopy(path)) {
        return;
      }
      void connected.then(() => {
        if (docs.isOpen(path) && !watchers.has(path)) {
          const watcher = new CopyWatcher({ api, copy: path, free: offerMerge });
          watchers.set(path, watcher);
        }
      });
    });
    docs.closed.connect((sender, path) => {
      watchers.get(path)?.dispose();
      watchers.delete(path);
    });

    // ---------------------------------------------------------- notifications
    new MergeNotifier({
      events: app.serviceManager.events,
      contents,
      trans,
      enabled: () => settings.composite.notifyMerges,
      review: path => void review(path),
      showStored: path => void previews.open(path),
      open
    });

    // --------------------------------------------------------------- commands
    // the browser a context menu was opened on, else the current one
    const selectedInBrowser = (): string | null => {
      if (!fileBrowserFactory) {
        return null;
      }
      const node = app.contextMenuHitTest(n => n.classList.contains('jp-FileBrowser'));
      if (!node) {
        return null;
      }
      const browser =
        fileBrowserFactory.tracker.find(w => w.node === node) ?? fileBrowserFactory.tracker.currentWidget;
      const first = browser?.selectedItems().next();
      const item = first && !first.done ? first.value : null;
      return item && item.type !== 'directory' ? contents.localPath(item.path) : null;
    };
    const targetPath = (args: Record<string, unknown>): string | null => {
      if (typeof args.path === 'string' && args.path) {
        return args.path;
      }
      const selected = selectedInBrowser();
      if (selected) {
        return selected;
      }
      const current = app.shell.currentWidget;
      const context = current ? docManager.contextForWidget(current) : undefined;
      return context && contents.driveName(context.path) === '' ? context.path : null;
    };

    app.commands.addCommand(CollabCommandIDs.lockExclusive, {
      label: trans.__('Lock for exclusive editing'),
      caption: trans.__('Only you can save this file until you unlock it; others can preview it or work on a copy'),
      isVisible: isConnected,
      isEnabled: isConnected,
      execute: async args => {
        const path = targetPath(args);
        if (!path) {
          Notification.warning(trans.__('Open or select a file to lock first.'), { autoClose: 5000 });
          return;
        }
        try {
          await api.lock(path);
          Notification.success(
            trans.__('%1 is locked for your exclusive editing: others can preview it or work on a copy.', fileName(path)),
            { autoClose: 8000 }
          );
        } catch (error) {
          Notification.error(trans.__('Not locked: %1', message(error)), { autoClose: 10_000 });
        }
        docs.refresh(path);
      }
    });
    app.commands.addCommand(CollabCommandIDs.unlockExclusive, {
      label: trans.__('Unlock'),
      caption: trans.__('Remove your exclusive lock: others can save again'),
      isVisible: isConnected,
      isEnabled: isConnected,
      execute: async args => {
        const path = targetPath(args);
        if (!path) {
          Notification.warning(trans.__('Open or select a file to unlock first.'), { autoClose: 5000 });
          return;
        }
        try {
          await api.unlock(path);
          Notification.success(trans.__('%1 is unlocked.', fileName(path)), { autoClose: 6000 });
        } catch (error) {
          Notification.error(trans.__('Not unlocked: %1', message(error)), { autoClose: 10_000 });
        }
        docs.refresh(path);
      }
    });
    app.commands.addCommand(CollabCommandIDs.reviewMerge, {
      label: trans.__('Review merged cells'),
      caption: trans.__('Choose which version of each cell flagged by a merge to keep'),
      isEnabled: args =>
        typeof args.path === 'string' && args.path
          ? true
          : hasConflicts(sharedNotebook(currentNotebook())),
      execute: args => review(typeof args.path === 'string' && args.path ? args.path : undefined)
    });
    app.commands.addCommand(CollabCommandIDs.showStored, {
      label: args =>
        typeof args.path === 'string' && args.path
          ? trans.__('Preview %1 as stored', PathExt.basename(args.path))
          : trans.__('Preview as stored'),
      caption: trans.__('A read-only view of the file as stored, refreshed when it changes'),
      isEnabled: args => !!targetPath(args),
      execute: args => {
        const path = targetPath(args);
        if (path) {
          previews.open(path);
        }
      }
    });
    if (palette) {
      const category = trans.__('ScienceMesh');
      for (const command of [
        CollabCommandIDs.reviewMerge,
        CollabCommandIDs.lockExclusive,
        CollabCommandIDs.unlockExclusive,
        CollabCommandIDs.showStored
      ]) {
        palette.addItem({ command, category });
      }
    }

    await settings.load(registry, COLLAB_PLUGIN_ID);
    settings.changed.connect(() => docs.refreshAll());
  }
};
