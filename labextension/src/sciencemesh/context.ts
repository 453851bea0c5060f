import { JupyterFrontEnd } from '@jupyterlab/application';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ITranslator } from '@jupyterlab/translation';

import { SessionModel } from '../session';

/**
 * What the ScienceMesh tabs get to build their content.
 */
export interface IScienceMeshContext {
  app: JupyterFrontEnd;
  session: SessionModel;
  fileBrowserFactory: IFileBrowserFactory;
  translator: ITranslator;
}
