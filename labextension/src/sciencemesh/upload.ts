import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IChangedArgs, PageConfig, URLExt } from '@jupyterlab/coreutils';
import { shouldOverwrite } from '@jupyterlab/docmanager';
import {
  CHUNK_SIZE,
  FilterFileBrowserModel,
  IUploadModel,
  LARGE_FILE_SIZE
} from '@jupyterlab/filebrowser';
import { Contents, ServerConnection } from '@jupyterlab/services';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { API_NAMESPACE } from '../request';

/**
 * The model of the My Files browser: Lab's file browser model, except that
 * large files (those Lab would send as base64 JSON chunks of 1 MiB) go as one
 * streamed PUT of the raw bytes to `/mesh-zenodo/upload/<path>`, which the
 * server pipes straight into the CS3 storage: no base64, no chunk round trips,
 * and the file appears whole and atomically.
 *
 * Only public API of `FileBrowserModel` is overridden: `upload()` (which Lab's
 * Uploader button and drag-and-drop call), `uploads()` and `uploadChanged`
 * (which Lab's status-bar progress item reads). The steps before the transfer
 * are Lab's: the "Large file size warning" dialog (same texts, Lab's
 * translation domain) and the overwrite question (`shouldOverwrite` of
 * `@jupyterlab/docmanager`). Small files, and every file when streaming is off
 * (the setting, or Lab's files not on CS3), go through Lab's own `upload()`.
 *
 * Lab's own file browser keeps Lab's chunked upload (which the CS3 contents
 * manager accepts): Lab builds its model, and making it stream would mean
 * replacing a private member (`_upload`), which this plugin no longer does.
 */
export class StreamingFileBrowserModel extends FilterFileBrowserModel {
  // The members added here start with `_mz`: Lab's model has private members
  // (`_uploadChanged`, `_trans`...) that share the object, and must not be shadowed.

  constructor(options: StreamingFileBrowserModel.IOptions) {
    super(options);
    this._mzShouldStream = options.shouldStream;
    this._mzTranslator = options.translator ?? nullTranslator;
    this._mzLabTrans = this._mzTranslator.load('jupyterlab');
    this._mzTrans = this._mzTranslator.load('mesh_zenodo');
    // Lab's own (chunked) uploads report on the base class's signal: pass them on
    super.uploadChanged.connect((sender, args) => this._mzUploadChanged.emit(args));
    window.addEventListener('beforeunload', this._mzOnBeforeUnload);
  }

  /**
   * Emitted when an upload starts, progresses, finishes or fails: Lab's
   * uploads and the streamed ones.
   */
  get uploadChanged(): ISignal<this, IChangedArgs<IUploadModel | null>> {
    return this._mzUploadChanged;
  }

  /**
   * The uploads in progress: Lab's and the streamed ones.
   */
  *uploads(): IterableIterator<IUploadModel> {
    yield* super.uploads();
    yield* this._mzStreaming;
  }

  /**
   * Upload `file` into the folder `path` (default: the current one).
   */
  async upload(file: File, path?: string): Promise<Contents.IModel> {
    if (file.size <= CHUNK_SIZE || !this._mzShouldStream()) {
      return super.upload(file, path);
    }
    if (!this.allowFileUploads) {
      throw new Error(this._mzLabTrans.__('File uploads are disabled'));
    }
    if (file.size > LARGE_FILE_SIZE && !(await this._mzConfirmLargeFile(file))) {
      throw 'Cancelled large file upload';
    }
    this._mzCheckDisposed();
    await this.refresh();
    this._mzCheckDisposed();
    const exists = Array.from(this.items()).some(item => item.name === file.name);
    if (exists && !(await shouldOverwrite(file.name, this._mzTranslator))) {
      throw 'File not uploaded';
    }
    this._mzCheckDisposed();
    const folder = path === undefined ? this.path : path;
    return this._mzStream(file, folder ? `${folder}/${file.name}` : file.name);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.removeEventListener('beforeunload', this._mzOnBeforeUnload);
    super.dispose();
  }

  /**
   * Lab's question before uploading a file larger than 15 MiB.
   */
  private async _mzConfirmLargeFile(file: File): Promise<boolean> {
    const trans = this._mzLabTrans;
    const { button } = await showDialog({
      title: trans.__('Large file size warning'),
      body: trans.__(
        'The file size is %1 MB. Do you still want to upload it?',
        Math.round(file.size / (1024 * 1024))
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Upload') })
      ]
    });
    return button.accept;
  }

  private _mzCheckDisposed(): void {
    if (this.isDisposed) {
      throw 'Filemanager disposed. File upload canceled';
    }
  }

  /**
   * PUT `file` to `path`, reporting progress as Lab's chunked upload does.
   */
  private async _mzStream(file: File, path: string): Promise<Contents.IModel> {
    let upload: IUploadModel = { path, progress: 0 };
    this._mzStreaming.push(upload);
    this._mzUploadChanged.emit({ name: 'start', newValue: upload, oldValue: null });
    const report = (progress: number) => {
      const next = { path, progress };
      const index = this._mzStreaming.indexOf(upload);
      if (index >= 0) {
        this._mzStreaming.splice(index, 1, next);
      }
      this._mzUploadChanged.emit({ name: 'update', newValue: next, oldValue: upload });
      upload = next;
    };
    const forget = () => {
      const index = this._mzStreaming.indexOf(upload);
      if (index >= 0) {
        this._mzStreaming.splice(index, 1);
      }
    };
    try {
      const model = await putFile(this.manager.services.serverSettings, path, file, report, this._mzTrans);
      forget();
      this._mzUploadChanged.emit({ name: 'finish', newValue: null, oldValue: upload });
      return model;
    } catch (error) {
      forget();
      this._mzUploadChanged.emit({ name: 'failure', newValue: upload, oldValue: null });
      throw error;
    }
  }

  private _mzOnBeforeUnload = (event: BeforeUnloadEvent): string | undefined => {
    if (this._mzStreaming.length > 0) {
      const message = this._mzLabTrans.__('Files still uploading');
      event.returnValue = message;
      return message;
    }
    return undefined;
  };

  private _mzShouldStream: () => boolean;
  private _mzTranslator: ITranslator;
  private _mzLabTrans: TranslationBundle;
  private _mzTrans: TranslationBundle;
  private _mzStreaming: IUploadModel[] = [];
  private _mzUploadChanged = new Signal<this, IChangedArgs<IUploadModel | null>>(this);
}

export namespace StreamingFileBrowserModel {
  export interface IOptions extends FilterFileBrowserModel.IOptions {
    /** Whether large files stream now (the setting, and Lab's files on CS3). */
    shouldStream: () => boolean;
  }
}

/**
 * PUT `file` to the streaming upload endpoint with progress events. Lab
 * already asked the user before overwriting, hence `overwrite=1`.
 */
function putFile(
  settings: ServerConnection.ISettings,
  path: string,
  file: File,
  onProgress: (fraction: number) => void,
  trans: TranslationBundle
): Promise<Contents.IModel> {
  const url =
    URLExt.join(settings.baseUrl, API_NAMESPACE, 'upload', URLExt.encodeParts(path)) +
    '?overwrite=1';
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    const token = settings.token || PageConfig.getToken();
    if (token) {
      xhr.setRequestHeader('Authorization', `token ${token}`);
    }
    const xsrf = document.cookie.match('\\b_xsrf=([^;]*)\\b');
    if (xsrf) {
      xhr.setRequestHeader('X-XSRFToken', decodeURIComponent(xsrf[1]));
    }
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = event => {
      if (event.lengthComputable && event.total > 0) {
        onProgress(Math.min(event.loaded / event.total, 0.999));
      }
    };
    xhr.onload = () => {
      let body: any = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        resolve(body as Contents.IModel);
      } else {
        const message = body?.message || xhr.statusText || `HTTP ${xhr.status}`;
        reject(new Error(trans.__('Upload of %1 failed: %2', file.name, message)));
      }
    };
    xhr.onerror = () =>
      reject(new Error(trans.__('Upload of %1 failed: the server could not be reached', file.name)));
    xhr.onabort = () => reject(new Error(trans.__('Upload of %1 was cancelled', file.name)));
    xhr.send(file);
  });
}
