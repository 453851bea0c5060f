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
  /** Open the Share dialog of a file or folder (`args.path`, else the file browser's selection). */
  export const share = 'mesh-zenodo:share';
  /** Show the Shares tab of the ScienceMesh panel. */
  export const openShares = 'mesh-zenodo:open-shares';
  /**
   * Publish a folder to Zenodo (`args.path`; else the file browser's selected
   * folder, or with `args.current` its current folder).
   */
  export const publishFolder = 'mesh-zenodo:publish-folder';
  /** Show the Publish tab of the Zenodo panel. */
  export const openPublish = 'mesh-zenodo:open-publish';
}

/**
 * Commands of JupyterLab that mesh-zenodo runs.
 */
export namespace LabCommandIDs {
  /** Lab's file browser shows a folder (`args.path`). */
  export const goToPath = 'filebrowser:go-to-path';
}
