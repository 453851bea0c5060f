import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { sciencemeshPlugin } from './sciencemesh/plugin';

/**
 * The plugins of mesh-zenodo; the Zenodo panel will join them.
 */
const plugins: JupyterFrontEndPlugin<any>[] = [sciencemeshPlugin];

export default plugins;
