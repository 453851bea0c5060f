import { FileBrowser, Uploader } from '@jupyterlab/filebrowser';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import {
  newFolderIcon,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { Message, MessageLoop } from '@lumino/messaging';
import { PanelLayout, Widget } from '@lumino/widgets';

import { h } from '../dom';
import { failureTitle } from '../session';
import { IScienceMeshContext, SessionState } from '../tokens';
import { QuotaLine } from './quota';
import { StreamingFileBrowserModel } from './upload';

/**
 * Id of the "My Files" browser (also its state-database key).
 */
export const MY_FILES_BROWSER_ID = 'mesh-zenodo-myfiles';

/**
 * What My Files needs besides the tab context.
 */
export interface IMyFilesOptions {
  /** Where the browser remembers its folder, as Lab's browsers do. */
  state: IStateDB | null;
  /** Whether large uploads stream into the CS3 storage now. */
  shouldStream: () => boolean;
}

/**
 * The My Files tab: the user's CS3 home in a file browser while there is a
 * session; without one, a placeholder that says why instead of an empty list.
 *
 * The browser is built the first time the tab is visible with a session, so
 * nothing asks the storage for files while it is unreachable, and Lab sizes
 * the browser's columns (Name, Modified) from the tab's real width.
 */
export class MyFilesView extends Widget {
  constructor(context: IScienceMeshContext, options: IMyFilesOptions) {
    super();
    this.addClass('mz-MyFilesView');
    this._context = context;
    this._options = options;
    this._trans = context.translator.load('mesh_zenodo');
    const layout = (this.layout = new PanelLayout());
    this._placeholder = new Widget({
      node: h('div', {
        className: 'mz-MyFilesView-placeholder',
        testid: 'mz-myfiles-placeholder',
        attrs: { role: 'status' }
      })
    });
    layout.addWidget(this._placeholder);
    context.session.stateChanged.connect(this._sync, this);
    this._sync();
  }

  /** The file browser, once built. */
  get browser(): FileBrowser | null {
    return this._browser;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._context.session.stateChanged.disconnect(this._sync, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._sync();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    if (!this._browser) {
      this._sync();
    }
  }

  private _sync(): void {
    const state: SessionState = this._context.session.state;
    if (state.kind === 'connected') {
      if (!this._browser && this.isVisible && this.node.clientWidth > 0) {
        this._browser = createMyFiles(this._context, this._options);
        (this.layout as PanelLayout).addWidget(this._browser);
        this._quota = new QuotaLine(
          this._browser,
          this._context.docManager.services.serverSettings,
          this._trans
        );
        (this.layout as PanelLayout).addWidget(this._quota);
        MessageLoop.sendMessage(this._browser, Widget.ResizeMessage.UnknownSize);
      }
      this._browser?.show();
      this._quota?.show();
      this._placeholder.setHidden(!!this._browser);
      if (!this._browser) {
        this._showText(this._trans.__('Loading your files…'));
      }
    } else if (state.kind === 'error') {
      const failure = state.failure;
      this._browser?.hide();
      this._quota?.hide();
      this._placeholder.show();
      this._placeholder.node.dataset.state = 'error';
      this._placeholder.node.replaceChildren(
        h('div', { className: 'mz-MyFilesView-title' }, failureTitle(failure, this._trans)),
        h('div', { className: 'mz-MyFilesView-reason', testid: 'mz-myfiles-reason' }, failure.message),
        h(
          'div',
          { className: 'mz-MyFilesView-hint' },
          failure.status === 401
            ? this._trans.__('Your files show here once the storage accepts the sign-in.')
            : this._trans.__(
                'Your files show here once the storage answers again: press Retry above.'
              )
        )
      );
    } else if (!this._browser) {
      this._showText(this._trans.__('Connecting to ScienceMesh…'));
    }
  }

  private _showText(text: string): void {
    this._placeholder.node.dataset.state = 'loading';
    this._placeholder.node.replaceChildren(
      h('div', { className: 'mz-MyFilesView-loading' }, text)
    );
  }

  private _context: IScienceMeshContext;
  private _options: IMyFilesOptions;
  private _trans: TranslationBundle;
  private _placeholder: Widget;
  private _browser: FileBrowser | null = null;
  private _quota: QuotaLine | null = null;
}

/**
 * A file browser over the default drive, i.e. the server's contents
 * manager, which is the CS3 one: it shows the user's CS3 home.
 *
 * It is built as Lab's file browser factory builds one (same model options,
 * same tracker), with the model that streams large uploads.
 */
export function createMyFiles(
  context: IScienceMeshContext,
  options: IMyFilesOptions
): FileBrowser {
  const { translator, docManager, fileBrowserFactory } = context;
  const model = new StreamingFileBrowserModel({
    manager: docManager,
    translator,
    auto: true,
    refreshStandby: 'when-hidden',
    state: options.state ?? undefined,
    shouldStream: options.shouldStream
  });
  const browser = new FileBrowser({
    id: MY_FILES_BROWSER_ID,
    model,
    translator,
    state: options.state ?? undefined
  });
  // Lab's default look (as its own browser): no checkbox column, so that the
  // Modified column gets the room to read "Modified" and a date
  browser.showFileCheckboxes = false;
  void fileBrowserFactory.tracker.add(browser);
  browser.addClass('mz-MyFiles');
  browser.node.dataset.testid = 'mz-myfiles';
  browser.title.label = context.translator.load('mesh_zenodo').__('My Files');
  addToolbar(browser, translator);
  return browser;
}

function addToolbar(browser: FileBrowser, translator: ITranslator): void {
  const trans = translator.load('mesh_zenodo');
  const toolbar = browser.toolbar;
  toolbar.addClass('mz-MyFiles-toolbar');

  toolbar.addItem(
    'new-directory',
    new ToolbarButton({
      icon: newFolderIcon,
      className: 'mz-MyFiles-newFolder',
      tooltip: trans.__('New Folder'),
      onClick: () => {
        browser.createNewDirectory().catch(reason => {
          console.error('mesh-zenodo: cannot create a folder', reason);
        });
      }
    })
  );

  // Lab's upload button; it calls the model's `upload()`, which streams
  const uploader = new Uploader({ model: browser.model, translator });
  uploader.addClass('mz-MyFiles-upload');
  toolbar.addItem('upload', uploader);

  toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      className: 'mz-MyFiles-refresh',
      tooltip: trans.__('Refresh the file list'),
      onClick: () => {
        browser.model.refresh().catch(reason => {
          console.error('mesh-zenodo: cannot refresh', reason);
        });
      }
    })
  );
}
