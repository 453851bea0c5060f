import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { TranslationBundle } from '@jupyterlab/translation';

import { Child, button, externalLink, h, spinner } from '../dom';
import { errorBox } from '../feedback';
import { IZenodoContext } from '../tokens';
import { IRecordDetails, IRecordFile } from './api';
import { describeFailure, toFailure } from './failure';
import { hostOf, humanSize } from './format';
import { pickAndPull } from './pulls/dialogs';

/**
 * The details of one record: what it is, who made it, its files, and the
 * "Download to…" buttons. Plain DOM, owned by the search tab.
 */
export class RecordDetailsView {
  constructor(
    private readonly _context: IZenodoContext,
    private readonly _recordId: number | string,
    private readonly _baseUrl: string | undefined,
    private readonly _onBack: () => void
  ) {
    this._trans = _context.translator.load('mesh_zenodo');
    this.node = h('div', {
      className: 'mz-RecordDetails',
      testid: 'mz-zenodo-details',
      attrs: { 'data-record-id': String(_recordId) }
    });
    this._back = button(this._trans.__('← Back'), {
      className: 'mz-RecordDetails-back',
      testid: 'mz-zenodo-back',
      title: this._trans.__('Back to the results'),
      onClick: () => this._onBack()
    });
    this._content = h('div', { className: 'mz-RecordDetails-content' });
    this.node.append(h('div', { className: 'mz-RecordDetails-bar' }, this._back), this._content);
    void this._load();
  }

  readonly node: HTMLElement;

  /** The record, once loaded. */
  get record(): IRecordDetails | null {
    return this._record;
  }

  focus(): void {
    this._back.focus();
  }

  private async _load(): Promise<void> {
    const trans = this._trans;
    this._content.replaceChildren(spinner(trans.__('Loading the record…')));
    try {
      this._record = await this._context.api.record(this._recordId, this._baseUrl);
    } catch (error) {
      const retry = button(trans.__('Retry'), { onClick: () => void this._load() });
      this._content.replaceChildren(
        errorBox(describeFailure(toFailure(error), trans), {
          testid: 'mz-zenodo-error',
          extra: [retry]
        })
      );
      return;
    }
    this._render(this._record);
  }

  private _download(record: IRecordDetails, keys: string[] | null): void {
    const { pulls, docManager } = this._context;
    void pickAndPull(pulls, docManager, this._trans, record, keys);
  }

  private _render(record: IRecordDetails): void {
    const trans = this._trans;
    const title = h(
      'h3',
      { className: 'mz-RecordDetails-title', testid: 'mz-zenodo-details-title' },
      externalLink(record.url, record.title || trans.__('Record %1', record.id), {
        title: trans.__('Open the record on %1', hostOf(record.base_url, 'Zenodo'))
      })
    );

    const rtype = record.resource_type;
    const kind = h(
      'div',
      { className: 'mz-RecordDetails-kind' },
      h('span', { className: 'mz-Badge' }, rtype.subtype ? `${rtype.title} · ${rtype.subtype}` : rtype.title),
      record.access_right && record.access_right !== 'open'
        ? h('span', { className: 'mz-Badge mz-mod-warn' }, record.access_right)
        : null
    );

    const meta = h('dl', { className: 'mz-RecordDetails-meta', testid: 'mz-zenodo-details-meta' });
    const row = (label: string, testid: string, ...value: Child[]) => {
      meta.append(h('dt', {}, label), h('dd', { testid }, ...value));
    };
    if (record.doi) {
      row(trans.__('DOI'), 'mz-zenodo-doi', doiLink(record.doi, record.doi_url));
    }
    row(trans.__('Version'), 'mz-zenodo-version', versionText(record, trans));
    row(trans.__('Published'), 'mz-zenodo-published', record.publication_date ?? '—');
    if (record.license) {
      row(
        trans.__('License'),
        'mz-zenodo-license',
        record.license.url ? externalLink(record.license.url, record.license.title) : record.license.title
      );
    } else {
      row(trans.__('License'), 'mz-zenodo-license', trans.__('not stated'));
    }

    const authors = h(
      'div',
      { className: 'mz-RecordDetails-authors', testid: 'mz-zenodo-authors' },
      h('span', { className: 'mz-Form-label' }, trans._n('Author', 'Authors', record.creators.length)),
      ...record.creators.map((creator, index) =>
        h(
          'span',
          {
            className: 'mz-RecordDetails-author',
            testid: 'mz-zenodo-author',
            title: creator.affiliations.length
              ? creator.affiliations.join('; ')
              : trans.__('No affiliation given'),
            attrs: { tabindex: '0' }
          },
          creator.name + (index < record.creators.length - 1 ? ';' : '')
        )
      )
    );

    const description = h('div', {
      className: 'mz-RecordDetails-description',
      testid: 'mz-zenodo-description'
    });
    setSanitizedHTML(description, record.description, this._context.sanitizer, trans);

    const keywords = record.keywords.length
      ? h(
          'div',
          { className: 'mz-RecordDetails-keywords' },
          ...record.keywords.map(k => h('span', { className: 'mz-Chip' }, k))
        )
      : null;

    const allButton = button(trans.__('Download all to…'), {
      primary: true,
      className: 'mz-RecordDetails-downloadAll',
      testid: 'mz-zenodo-download-all',
      title: trans.__('Save every file of this record in a folder of your ScienceMesh storage'),
      disabled: record.files.length === 0,
      onClick: () => this._download(record, null)
    });
    const count = record.files.length;
    const files = h(
      'section',
      { className: 'mz-RecordDetails-files', testid: 'mz-zenodo-files' },
      h(
        'div',
        { className: 'mz-RecordDetails-filesHead' },
        h(
          'h4',
          {},
          count
            ? trans.__('Files (%1 · %2)', count, humanSize(record.files_total_size))
            : trans.__('Files (%1)', count)
        ),
        allButton
      ),
      count
        ? h(
            'ul',
            { className: 'mz-RecordDetails-fileList' },
            ...record.files.map(file => this._fileRow(record, file))
          )
        : h('div', { className: 'mz-Empty' }, trans.__('This record has no files (or they are restricted).'))
    );

    this._content.replaceChildren(title, kind, meta, authors, description, keywords ?? '', files);
  }

  private _fileRow(record: IRecordDetails, file: IRecordFile): HTMLElement {
    const trans = this._trans;
    const checksum = file.checksum || (file.md5 ? `md5:${file.md5}` : '');
    return h(
      'li',
      { className: 'mz-RecordDetails-file', testid: 'mz-zenodo-file', attrs: { 'data-key': file.key } },
      h(
        'div',
        { className: 'mz-RecordDetails-fileMain' },
        h('div', { className: 'mz-RecordDetails-fileName', title: file.key }, file.key),
        h(
          'div',
          { className: 'mz-RecordDetails-fileMeta' },
          h(
            'span',
            {
              className: 'mz-RecordDetails-fileSize',
              testid: 'mz-zenodo-file-size',
              title: trans.__('%1 bytes', file.size)
            },
            humanSize(file.size)
          ),
          checksum &&
            h(
              'span',
              {
                className: 'mz-RecordDetails-fileChecksum',
                testid: 'mz-zenodo-file-checksum',
                title: checksum
              },
              checksum
            )
        )
      ),
      button(trans.__('Download to…'), {
        className: 'mz-RecordDetails-download',
        testid: 'mz-zenodo-download',
        title: trans.__('Save %1 in a folder of your ScienceMesh storage', file.key),
        onClick: () => this._download(record, [file.key])
      })
    );
  }

  private _trans: TranslationBundle;
  private _back: HTMLButtonElement;
  private _content: HTMLElement;
  private _record: IRecordDetails | null = null;
}

/**
 * A DOI as a link to its resolver, on one line (cut with an ellipsis when the
 * room is short; the whole DOI is its tooltip).
 */
export function doiLink(doi: string, url?: string | null): HTMLAnchorElement {
  return externalLink(url || `https://doi.org/${doi}`, doi, { className: 'mz-Doi', title: doi });
}

/**
 * Put a record's description (limited, untrusted HTML) in `node` through
 * Lab's sanitizer; its links open outside Lab.
 */
export function setSanitizedHTML(
  node: HTMLElement,
  html: string,
  sanitizer: IRenderMime.ISanitizer,
  trans: TranslationBundle
): void {
  if (!html) {
    node.textContent = trans.__('No description.');
    node.classList.add('mz-mod-empty');
    return;
  }
  node.innerHTML = sanitizer.sanitize(html);
  for (const link of Array.from(node.querySelectorAll('a'))) {
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
  }
}

function versionText(record: IRecordDetails, trans: TranslationBundle): string {
  const v = record.versions;
  const name = v.version || record.version;
  const position =
    v.index && v.count
      ? v.is_latest
        ? trans.__('%1 of %2, latest', v.index, v.count)
        : trans.__('%1 of %2', v.index, v.count)
      : v.is_latest
        ? trans.__('latest')
        : '';
  if (name) {
    return position ? `${name} (${position})` : name;
  }
  return position ? trans.__('version %1', position) : trans.__('not stated');
}
