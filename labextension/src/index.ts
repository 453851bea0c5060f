import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import {
  sciencemeshPlugin,
  sessionPlugin,
  sharingPlaceholderPlugin
} from './sciencemesh/plugin';
import {
  publishingPlaceholderPlugin,
  zenodoJobsPlugin,
  zenodoPlugin
} from './zenodo/plugin';

export * from './tokens';
export { CommandIDs } from './commands';

/**
 * The plugins of mesh-zenodo.
 */
const plugins: JupyterFrontEndPlugin<any>[] = [
  sessionPlugin,
  sciencemeshPlugin,
  sharingPlaceholderPlugin,
  zenodoJobsPlugin,
  zenodoPlugin,
  publishingPlaceholderPlugin
];

export default plugins;
