import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { CommandIDs } from '../commands';
import { Child, externalLink, h, isWebUrl } from '../dom';
import { errorBox } from '../feedback';
import { zenodoIcon } from '../icons';
import { ZenodoAPI } from './api';
import { describeFailure, toFailure } from './failure';
import { formatDateTime } from './format';

/**
 * "Zenodo Provenance" in the file browser's context menu: which Zenodo record
 * (and version) a pulled folder or file came from, read from the CS3
 * arbitrary metadata the pull left on it.
 */
export function addProvenanceCommand(
  app: JupyterFrontEnd,
  api: ZenodoAPI,
  factory: IFileBrowserFactory,
  trans: TranslationBundle
): void {
  const selected = () => {
    const first = factory.tracker.currentWidget?.selectedItems().next();
    return first && !first.done ? first.value : undefined;
  };

  app.commands.addCommand(CommandIDs.zenodoProvenance, {
    label: trans.__('Zenodo Provenance'),
    caption: trans.__('Which Zenodo record and version this was pulled from'),
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
      await showProvenance(api, path, kind, trans);
    }
  });

  app.contextMenu.addItem({
    command: CommandIDs.zenodoProvenance,
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
  kind: 'file' | 'folder',
  trans: TranslationBundle
): Promise<void> {
  const name = path.split('/').filter(Boolean).pop() ?? '/';
  let body: HTMLElement;
  try {
    const { zenodo } = await api.provenance(path);
    body = zenodo ? renderProvenance(zenodo, name, trans) : renderNone(name, kind, trans);
  } catch (error) {
    body = errorBox(describeFailure(toFailure(error), trans), {
      testid: 'mz-zenodo-provenance-error'
    });
  }
  await showDialog({
    title: trans.__('Zenodo provenance of %1', name),
    body: new Widget({ node: body }),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
}

function renderNone(name: string, kind: 'file' | 'folder', trans: TranslationBundle): HTMLElement {
  return h(
    'div',
    { className: 'mz-Provenance mz-mod-empty', testid: 'mz-zenodo-provenance' },
    h(
      'p',
      {},
      kind === 'file'
        ? trans.__(
            '“%1” has no Zenodo provenance: this file was not pulled from Zenodo with mesh-zenodo ' +
              '(or its storage does not keep arbitrary metadata).',
            name
          )
        : trans.__(
            '“%1” has no Zenodo provenance: this folder was not pulled from Zenodo with mesh-zenodo ' +
              '(or its storage does not keep arbitrary metadata).',
            name
          )
    )
  );
}

function renderProvenance(
  zenodo: Record<string, string>,
  name: string,
  trans: TranslationBundle
): HTMLElement {
  const rows: [string, string, Child][] = [];
  const add = (label: string, key: string, value: Child) => {
    if (value) {
      rows.push([label, key, value]);
    }
  };
  const doiLink = (doi: string | undefined) =>
    doi ? externalLink(`https://doi.org/${doi}`, doi) : null;

  const title = zenodo.title || (zenodo.record_id ? trans.__('Record %1', zenodo.record_id) : '');
  add(trans.__('Record'), 'title', isWebUrl(zenodo.url) && title ? externalLink(zenodo.url, title) : title);
  add(trans.__('Record id'), 'record_id', zenodo.record_id);
  add(trans.__('Version'), 'version', zenodo.version);
  add(trans.__('DOI'), 'doi', doiLink(zenodo.doi));
  add(trans.__('All versions'), 'conceptdoi', doiLink(zenodo.conceptdoi));
  add(trans.__('Published'), 'publication_date', zenodo.publication_date);
  add(trans.__('File in the record'), 'key', zenodo.key);
  add(trans.__('Checksum'), 'checksum', zenodo.checksum);
  add(trans.__('Pulled'), 'pulled_at', formatDateTime(zenodo.pulled_at));
  if (!zenodo.title && isWebUrl(zenodo.url)) {
    add(trans.__('Link'), 'url', externalLink(zenodo.url, zenodo.url));
  }

  const list = h('dl', { className: 'mz-Provenance-list' });
  for (const [label, key, value] of rows) {
    list.append(h('dt', {}, label), h('dd', { testid: `mz-zenodo-provenance-${key}` }, value));
  }
  return h(
    'div',
    { className: 'mz-Provenance', testid: 'mz-zenodo-provenance' },
    h('p', {}, trans.__('“%1” was pulled from Zenodo:', name)),
    list
  );
}
