/**
 * Command ids of mesh-zenodo.
 */
export namespace CommandIDs {
  export const openScienceMesh = 'mesh-zenodo:open-sciencemesh';
}
