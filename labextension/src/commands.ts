/**
 * The command ids of mesh-zenodo: the only place they are spelled out.
 */
export namespace CommandIDs {
  /** Show the ScienceMesh side panel. */
  export const openScienceMesh = 'mesh-zenodo:open-sciencemesh';
  /** Show the Zenodo side panel. */
  export const openZenodo = 'mesh-zenodo:open-zenodo';
  /** Show which Zenodo record a pulled file or folder came from (`args.path`, else the selection). */
  export const zenodoProvenance = 'mesh-zenodo:zenodo-provenance';
}

/**
 * Commands of JupyterLab that mesh-zenodo runs.
 */
export namespace LabCommandIDs {
  /** Lab's file browser shows a folder (`args.path`). */
  export const goToPath = 'filebrowser:go-to-path';
}
