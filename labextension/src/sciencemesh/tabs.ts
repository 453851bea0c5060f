import { ITabSpec } from '../tabs';
import { IScienceMeshContext } from './context';
import { createMyFiles } from './myfiles';

const SHARING_LATER = 'Sharing arrives with the sharing feature';

/**
 * The tabs of the ScienceMesh panel, in order. Add a tab here.
 */
export const SCIENCEMESH_TABS: ReadonlyArray<ITabSpec<IScienceMeshContext>> = [
  {
    id: 'myfiles',
    label: 'My Files',
    caption: 'Your files on the CS3 storage',
    create: createMyFiles
  },
  { id: 'shares', label: 'Shares', disabledReason: SHARING_LATER },
  { id: 'projects', label: 'Projects', disabledReason: SHARING_LATER }
];
