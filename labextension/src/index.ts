import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { collabPlugin } from './collab/plugin';
import { sciencemeshPlugin, sessionPlugin } from './sciencemesh/plugin';
import { publishingPlugin } from './publish/plugin';
import { projectsPlugin, sharingPlugin } from './sharing/plugin';
import { zenodoJobsPlugin, zenodoPlugin } from './zenodo/plugin';

export * from './tokens';
export { CommandIDs } from './commands';

/**
 * The plugins of mesh-zenodo.
 */
const plugins: JupyterFrontEndPlugin<any>[] = [
  sessionPlugin,
  sciencemeshPlugin,
  sharingPlugin,
  projectsPlugin,
  collabPlugin,
  zenodoJobsPlugin,
  zenodoPlugin,
  publishingPlugin
];

export default plugins;
