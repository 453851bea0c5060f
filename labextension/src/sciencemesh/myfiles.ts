import { FileBrowser, Uploader } from '@jupyterlab/filebrowser';
import { ITranslator } from '@jupyterlab/translation';
import {
  newFolderIcon,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';

import { IScienceMeshContext } from './context';

/**
 * Id of the "My Files" browser (also its state-database key).
 */
export const MY_FILES_BROWSER_ID = 'mesh-zenodo-myfiles';

/**
 * A file browser over the default drive, i.e. the server's contents
 * manager, which is the CS3 one: it shows the user's CS3 home.
 */
export function createMyFiles(context: IScienceMeshContext): FileBrowser {
  const browser = context.fileBrowserFactory.createFileBrowser(
    MY_FILES_BROWSER_ID
  );
  browser.addClass('mz-MyFiles');
  browser.addClass('mz-tab-myfiles-browser');
  browser.node.dataset.testid = 'mz-myfiles';
  browser.title.label = 'My Files';
  addToolbar(browser, context.translator);
  return browser;
}

function addToolbar(browser: FileBrowser, translator: ITranslator): void {
  const trans = translator.load('jupyterlab');
  const toolbar = browser.toolbar;
  toolbar.addClass('mz-MyFiles-toolbar');

  toolbar.addItem(
    'new-directory',
    new ToolbarButton({
      icon: newFolderIcon,
      className: 'mz-myfiles-newfolder',
      tooltip: trans.__('New Folder'),
      onClick: () => {
        browser.createNewDirectory().catch(reason => {
          console.error('mesh-zenodo: cannot create a folder', reason);
        });
      }
    })
  );

  const uploader = new Uploader({ model: browser.model, translator });
  uploader.addClass('mz-myfiles-upload');
  toolbar.addItem('upload', uploader);

  toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      className: 'mz-myfiles-refresh',
      tooltip: trans.__('Refresh the file list'),
      onClick: () => {
        browser.model.refresh().catch(reason => {
          console.error('mesh-zenodo: cannot refresh', reason);
        });
      }
    })
  );
}
