import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { FileBrowserModel } from '@jupyterlab/filebrowser';
import { Contents, ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE } from '../request';

/**
 * The part of Lab's FileBrowserModel that performs an upload once Lab has asked
 * the user about large files and overwrites. It is private in Lab's typings, so it
 * is reached through this narrow view.
 */
interface IUploadingModel {
  path: string;
  _upload(file: File, chunked: boolean, uploadPath?: string): Promise<Contents.IModel>;
  _uploads: { path: string; progress: number }[];
  _uploadChanged: {
    emit(args: {
      name: string;
      newValue: { path: string; progress: number } | null;
      oldValue: { path: string; progress: number } | null;
    }): void;
  };
}

const STREAMED = Symbol('mesh-zenodo-streamed-uploads');

/**
 * Make `model` send large files (those Lab would send as base64 JSON chunks) as one
 * streamed PUT of the raw bytes to `/mesh-zenodo/upload/<path>`, which the server
 * pipes straight into the CS3 storage: no base64, no chunk round trips, and the
 * file appears whole and atomically. Lab's own dialogs (large file, overwrite) and
 * its upload progress bar work as before.
 */
export function streamLargeUploads(model: FileBrowserModel, settings: ServerConnection.ISettings): void {
  const target = model as unknown as IUploadingModel & { [STREAMED]?: boolean };
  if (target[STREAMED]) {
    return;
  }
  target[STREAMED] = true;
  const chunkedUpload = target._upload.bind(model);
  target._upload = async (file: File, chunked: boolean, uploadPath?: string) => {
    if (!chunked) {
      return chunkedUpload(file, chunked, uploadPath);
    }
    const folder = uploadPath === undefined ? target.path : uploadPath;
    const path = folder ? `${folder}/${file.name}` : file.name;
    let upload = { path, progress: 0 };
    target._uploads.push(upload);
    target._uploadChanged.emit({ name: 'start', newValue: upload, oldValue: null });
    const report = (progress: number) => {
      const next = { path, progress };
      const index = target._uploads.indexOf(upload);
      if (index >= 0) {
        target._uploads.splice(index, 1, next);
      }
      target._uploadChanged.emit({ name: 'update', newValue: next, oldValue: upload });
      upload = next;
    };
    const done = (name: 'finish' | 'failure') => {
      const index = target._uploads.indexOf(upload);
      if (index >= 0) {
        target._uploads.splice(index, 1);
      }
      target._uploadChanged.emit(
        name === 'finish'
          ? { name, newValue: null, oldValue: upload }
          : { name, newValue: upload, oldValue: null }
      );
    };
    try {
      const result = await putFile(settings, path, file, report);
      done('finish');
      return result;
    } catch (error) {
      done('failure');
      throw error;
    }
  };
}

/**
 * PUT `file` to the streaming upload endpoint with progress events. Lab already
 * asked the user before overwriting, hence `overwrite=1`.
 */
function putFile(
  settings: ServerConnection.ISettings,
  path: string,
  file: File,
  onProgress: (fraction: number) => void
): Promise<Contents.IModel> {
  const url =
    URLExt.join(settings.baseUrl, API_NAMESPACE, 'upload', URLExt.encodeParts(path)) + '?overwrite=1';
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
        reject(new Error(`Upload of ${file.name} failed: ${message}`));
      }
    };
    xhr.onerror = () => reject(new Error(`Upload of ${file.name} failed: the server could not be reached`));
    xhr.onabort = () => reject(new Error(`Upload of ${file.name} was cancelled`));
    xhr.send(file);
  });
}
