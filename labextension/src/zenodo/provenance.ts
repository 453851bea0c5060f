import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { CommandIDs } from '../commands';
import { Child, externalLink, h, isWebUrl } from '../dom';
import { errorBox } from '../feedback';
import { zenodoIcon } from '../icons';
import { IFileProvenance, IProvenanceRecord, ZenodoAPI } from './api';
import { doiLink } from './details';
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
 * The provenance dialog of `path`: for a file, the record it came from; for
 * a folder, every record that landed files in it.
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
    const { zenodo, records } = await api.provenance(path);
    if (kind === 'folder' && records?.length) {
      body = renderRecords(records, name, trans);
    } else if (zenodo) {
      body = renderFile(zenodo, name, kind, trans);
    } else {
      body = renderNone(name, kind, trans);
    }
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

/**
 * The title of a record, as a link to it when its URL is known.
 */
function recordTitle(
  record: { record_id?: string; title?: string; url?: string },
  trans: TranslationBundle
): Child {
  const title = record.title || (record.record_id ? trans.__('Record %1', record.record_id) : '');
  return isWebUrl(record.url) && title ? externalLink(record.url, title) : title;
}

/**
 * A file (or a folder pulled into before folders kept every record): its
 * record by title, version, DOI, and which file of the record it is.
 */
function renderFile(
  zenodo: IFileProvenance,
  name: string,
  kind: 'file' | 'folder',
  trans: TranslationBundle
): HTMLElement {
  const rows: [string, string, Child][] = [];
  const add = (label: string, key: string, value: Child) => {
    if (value) {
      rows.push([label, key, value]);
    }
  };
  add(trans.__('Record'), 'title', recordTitle(zenodo, trans));
  add(trans.__('Record id'), 'record_id', zenodo.record_id);
  add(trans.__('Version'), 'version', zenodo.version);
  add(trans.__('DOI'), 'doi', zenodo.doi && doiLink(zenodo.doi));
  add(trans.__('All versions'), 'conceptdoi', zenodo.conceptdoi && doiLink(zenodo.conceptdoi));
  add(trans.__('Published'), 'publication_date', zenodo.publication_date);
  add(trans.__('File in the record'), 'key', zenodo.key);
  add(trans.__('Checksum'), 'checksum', zenodo.checksum);
  add(trans.__('Pulled'), 'pulled_at', formatDateTime(zenodo.pulled_at));

  const list = h('dl', { className: 'mz-Provenance-list' });
  for (const [label, key, value] of rows) {
    list.append(h('dt', {}, label), h('dd', { testid: `mz-zenodo-provenance-${key}` }, value));
  }
  return h(
    'div',
    { className: 'mz-Provenance', testid: 'mz-zenodo-provenance', attrs: { 'data-kind': kind } },
    h(
      'p',
      {},
      kind === 'file'
        ? trans.__('“%1” was pulled from this Zenodo record:', name)
        : trans.__('“%1” was pulled from Zenodo:', name)
    ),
    list
  );
}

/**
 * A folder: every record that landed files in it, the latest pull first.
 */
function renderRecords(
  records: IProvenanceRecord[],
  name: string,
  trans: TranslationBundle
): HTMLElement {
  const items = [...records].reverse().map(record => {
    const files = record.files ?? [];
    const meta: Child[] = [];
    const part = (...children: Child[]) => {
      if (meta.length) {
        meta.push(' · ');
      }
      meta.push(...children);
    };
    if (record.version) {
      part(trans.__('Version %1', record.version));
    }
    if (record.doi) {
      part(trans.__('DOI'), ' ', doiLink(record.doi));
    }
    if (record.pulled_at) {
      part(trans.__('pulled %1', formatDateTime(record.pulled_at)));
    }
    return h(
      'li',
      {
        className: 'mz-Provenance-record',
        testid: 'mz-zenodo-provenance-record',
        attrs: { 'data-record-id': record.record_id }
      },
      h('div', { className: 'mz-Provenance-recordTitle' }, recordTitle(record, trans)),
      meta.length ? h('div', { className: 'mz-Provenance-recordMeta' }, ...meta) : null,
      files.length
        ? h(
            'div',
            { className: 'mz-Provenance-recordFiles', testid: 'mz-zenodo-provenance-files' },
            h('span', { className: 'mz-Provenance-filesLabel' }, trans._n('File:', 'Files:', files.length)),
            ' ',
            files.join(', ')
          )
        : null
    );
  });
  return h(
    'div',
    { className: 'mz-Provenance', testid: 'mz-zenodo-provenance', attrs: { 'data-kind': 'folder' } },
    h(
      'p',
      {},
      trans._n(
        '“%2” holds files pulled from %1 Zenodo record:',
        '“%2” holds files pulled from %1 Zenodo records:',
        records.length,
        name
      )
    ),
    h('ul', { className: 'mz-Provenance-records' }, ...items)
  );
}
