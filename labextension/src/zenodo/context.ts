import { JupyterFrontEnd } from '@jupyterlab/application';
import { IDocumentManager } from '@jupyterlab/docmanager';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { ITranslator } from '@jupyterlab/translation';

import { ZenodoAPI } from './api';
import { ZenodoModel } from './model';
import { PullManager } from './pulls';

/**
 * What the Zenodo panel's views get to build themselves.
 */
export interface IZenodoContext {
  app: JupyterFrontEnd;
  api: ZenodoAPI;
  model: ZenodoModel;
  pulls: PullManager;
  docManager: IDocumentManager;
  sanitizer: IRenderMime.ISanitizer;
  translator: ITranslator;
}
