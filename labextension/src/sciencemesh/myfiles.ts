import { FileBrowser, Uploader } from '@jupyterlab/filebrowser';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator } from '@jupyterlab/translation';
import {
  newFolderIcon,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';

import { IScienceMeshContext } from '../tokens';
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
