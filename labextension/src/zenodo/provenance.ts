import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { Widget } from '@lumino/widgets';

import { ZenodoAPI, toFailure } from './api';
import { Child, externalLink, formatDateTime, h, isWebUrl } from './dom';
import { errorBox } from './feedback';
import { zenodoIcon } from './icons';

export const PROVENANCE_COMMAND = 'mesh-zenodo:zenodo-provenance';

/**
 * "Zenodo provenance" in the file browser's context menu: which Zenodo record
 * (and version) a pulled folder or file came from, read from the CS3
 * arbitrary metadata the pull left on it.
 */
export function addProvenanceCommand(
  app: JupyterFrontEnd,
  api: ZenodoAPI,
  factory: IFileBrowserFactory
): void {
  const selected = () => {
    const first = factory.tracker.currentWidget?.selectedItems().next();
    return first && !first.done ? first.value : undefined;
  };

  app.commands.addCommand(PROVENANCE_COMMAND, {
    label: 'Zenodo Provenance',
    caption: 'Which Zenodo record and version this was pulled from',
    icon: args => (args['isPalette'] ? undefined : zenodoIcon),
    isVisible: () => !!selected(),
    execute: async args => {
      const item = selected();
      const rawPath = typeof args['path'] === 'string' ? (args['path'] as string) : item?.path;
      if (rawPath === undefined) {
        return;
      }
      const path = app.serviceManager.contents.localPath(rawPath);
      const kind = item && item.path === rawPath && item.type !== 'directory' ? 'file' : 'folder';
      await showProvenance(api, path, kind);
    }
  });

  app.contextMenu.addItem({
    command: PROVENANCE_COMMAND,
    selector: '.jp-DirListing-item[data-isdir]',
    rank: 11
  });
}

/**
 * The provenance dialog of `path`.
 */
export async function showProvenance(
  api: ZenodoAPI,
  path: string,
  kind: 'file' | 'folder' = 'folder'
): Promise<void> {
  const name = path.split('/').filter(Boolean).pop() ?? '/';
  let body: HTMLElement;
  try {
    const { zenodo } = await api.provenance(path);
    body = zenodo ? renderProvenance(zenodo, name) : renderNone(name, kind);
  } catch (error) {
    body = errorBox(toFailure(error), { testid: 'mz-zenodo-provenance-error' });
  }
  await showDialog({
    title: `Zenodo provenance of ${name}`,
    body: new Widget({ node: body }),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}

function renderNone(name: string, kind: string): HTMLElement {
  return h(
    'div',
    { className: 'mz-zenodo-provenance mz-mod-empty', testid: 'mz-zenodo-provenance' },
    h(
      'p',
      {},
      `“${name}” has no Zenodo provenance: this ${kind} was not pulled from Zenodo with mesh-zenodo ` +
        '(or its storage does not keep arbitrary metadata).'
    )
  );
}

function renderProvenance(zenodo: Record<string, string>, name: string): HTMLElement {
  const rows: [string, string, Child][] = [];
  const add = (label: string, key: string, value: Child) => {
    if (value) {
      rows.push([label, key, value]);
    }
  };
  const doiLink = (doi: string | undefined) =>
    doi ? externalLink(`https://doi.org/${doi}`, doi) : null;

  const title = zenodo.title || (zenodo.record_id ? `Record ${zenodo.record_id}` : '');
  add('Record', 'title', isWebUrl(zenodo.url) && title ? externalLink(zenodo.url, title) : title);
  add('Record id', 'record_id', zenodo.record_id);
  add('Version', 'version', zenodo.version);
  add('DOI', 'doi', doiLink(zenodo.doi));
  add('All versions', 'conceptdoi', doiLink(zenodo.conceptdoi));
  add('Published', 'publication_date', zenodo.publication_date);
  add('File in the record', 'key', zenodo.key);
  add('Checksum', 'checksum', zenodo.checksum);
  add('Pulled', 'pulled_at', formatDateTime(zenodo.pulled_at));
  if (!zenodo.title && isWebUrl(zenodo.url)) {
    add('Link', 'url', externalLink(zenodo.url, zenodo.url));
  }

  const list = h('dl', { className: 'mz-zenodo-provenance-list' });
  for (const [label, key, value] of rows) {
    list.append(h('dt', {}, label), h('dd', { testid: `mz-zenodo-provenance-${key}` }, value));
  }
  return h(
    'div',
    { className: 'mz-zenodo-provenance', testid: 'mz-zenodo-provenance' },
    h('p', {}, `“${name}” was pulled from Zenodo:`),
    list
  );
}
