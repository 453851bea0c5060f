import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { sciencemeshPlugin } from './sciencemesh/plugin';
import { zenodoPlugin } from './zenodo/plugin';

/**
 * The plugins of mesh-zenodo.
 */
const plugins: JupyterFrontEndPlugin<any>[] = [sciencemeshPlugin, zenodoPlugin];

export default plugins;
