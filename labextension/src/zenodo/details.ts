import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { IRecordDetails, IRecordFile, toFailure } from './api';
import { IZenodoContext } from './context';
import { Child, button, externalLink, h, humanSize, spinner } from './dom';
import { errorBox } from './feedback';

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
    this.node = h('div', {
      className: 'mz-zenodo-details',
      testid: 'mz-zenodo-details',
      attrs: { 'data-record-id': String(_recordId) }
    });
    this._back = button('← Back', {
      className: 'mz-zenodo-back',
      testid: 'mz-zenodo-back',
      title: 'Back to the results',
      onClick: () => this._onBack()
    });
    this._content = h('div', { className: 'mz-zenodo-details-content' });
    this.node.append(h('div', { className: 'mz-zenodo-details-bar' }, this._back), this._content);
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
    this._content.replaceChildren(spinner('Loading the record…'));
    try {
      this._record = await this._context.api.record(this._recordId, this._baseUrl);
    } catch (error) {
      const retry = button('Retry', { onClick: () => void this._load() });
      this._content.replaceChildren(errorBox(toFailure(error), { extra: [retry] }));
      return;
    }
    this._render(this._record);
  }

  private _render(record: IRecordDetails): void {
    const title = h(
      'h3',
      { className: 'mz-zenodo-details-title', testid: 'mz-zenodo-details-title' },
      externalLink(record.url, record.title || `Record ${record.id}`, {
        title: `Open the record on ${hostOf(record.base_url)}`
      })
    );

    const rtype = record.resource_type;
    const kind = h(
      'div',
      { className: 'mz-zenodo-details-kind' },
      h('span', { className: 'mz-zenodo-badge' }, rtype.subtype ? `${rtype.title} · ${rtype.subtype}` : rtype.title),
      record.access_right && record.access_right !== 'open'
        ? h('span', { className: 'mz-zenodo-badge mz-mod-warn' }, record.access_right)
        : null
    );

    const meta = h('dl', { className: 'mz-zenodo-details-meta', testid: 'mz-zenodo-details-meta' });
    const row = (label: string, testid: string, ...value: Child[]) => {
      meta.append(h('dt', {}, label), h('dd', { testid }, ...value));
    };
    if (record.doi) {
      const doiUrl = record.doi_url || `https://doi.org/${record.doi}`;
      row('DOI', 'mz-zenodo-doi', externalLink(doiUrl, record.doi));
    }
    row('Version', 'mz-zenodo-version', versionText(record));
    row('Published', 'mz-zenodo-published', record.publication_date ?? '—');
    if (record.license) {
      row(
        'License',
        'mz-zenodo-license',
        record.license.url ? externalLink(record.license.url, record.license.title) : record.license.title
      );
    } else {
      row('License', 'mz-zenodo-license', 'not stated');
    }

    const authors = h(
      'div',
      { className: 'mz-zenodo-authors', testid: 'mz-zenodo-authors' },
      h('span', { className: 'mz-zenodo-label' }, record.creators.length === 1 ? 'Author' : 'Authors'),
      ...record.creators.map((creator, index) =>
        h(
          'span',
          {
            className: 'mz-zenodo-author',
            testid: 'mz-zenodo-author',
            title: creator.affiliations.length ? creator.affiliations.join('; ') : 'No affiliation given',
            attrs: { tabindex: '0' }
          },
          creator.name + (index < record.creators.length - 1 ? ';' : '')
        )
      )
    );

    const description = h('div', { className: 'mz-zenodo-description', testid: 'mz-zenodo-description' });
    setSanitizedHTML(description, record.description, this._context.sanitizer);

    const keywords = record.keywords.length
      ? h(
          'div',
          { className: 'mz-zenodo-keywords' },
          ...record.keywords.map(k => h('span', { className: 'mz-zenodo-chip' }, k))
        )
      : null;

    const pulls = this._context.pulls;
    const allButton = button('Download all to…', {
      primary: true,
      className: 'mz-zenodo-download-all',
      testid: 'mz-zenodo-download-all',
      title: 'Save every file of this record in a folder of your ScienceMesh storage',
      disabled: record.files.length === 0,
      onClick: () => void pulls.pickAndPull(record, null)
    });
    const files = h(
      'section',
      { className: 'mz-zenodo-files', testid: 'mz-zenodo-files' },
      h(
        'div',
        { className: 'mz-zenodo-files-head' },
        h(
          'h4',
          {},
          `Files (${record.files.length}` +
            (record.files.length ? ` · ${humanSize(record.files_total_size)})` : ')')
        ),
        allButton
      ),
      record.files.length
        ? h(
            'ul',
            { className: 'mz-zenodo-file-list' },
            ...record.files.map(file => this._fileRow(record, file))
          )
        : h('div', { className: 'mz-zenodo-empty' }, 'This record has no files (or they are restricted).')
    );

    this._content.replaceChildren(title, kind, meta, authors, description, keywords ?? '', files);
  }

  private _fileRow(record: IRecordDetails, file: IRecordFile): HTMLElement {
    const checksum = file.checksum || (file.md5 ? `md5:${file.md5}` : '');
    return h(
      'li',
      { className: 'mz-zenodo-file', testid: 'mz-zenodo-file', attrs: { 'data-key': file.key } },
      h(
        'div',
        { className: 'mz-zenodo-file-main' },
        h('div', { className: 'mz-zenodo-file-name', title: file.key }, file.key),
        h(
          'div',
          { className: 'mz-zenodo-file-meta' },
          h('span', { className: 'mz-zenodo-file-size', testid: 'mz-zenodo-file-size', title: `${file.size} bytes` }, humanSize(file.size)),
          checksum &&
            h('span', { className: 'mz-zenodo-file-checksum', testid: 'mz-zenodo-file-checksum', title: checksum }, checksum)
        )
      ),
      button('Download to…', {
        className: 'mz-zenodo-download',
        testid: 'mz-zenodo-download',
        title: `Save ${file.key} in a folder of your ScienceMesh storage`,
        onClick: () => void this._context.pulls.pickAndPull(record, [file.key])
      })
    );
  }

  private _back: HTMLButtonElement;
  private _content: HTMLElement;
  private _record: IRecordDetails | null = null;
}

/**
 * Put a record's description (limited, untrusted HTML) in `node` through
 * Lab's sanitizer; its links open outside Lab.
 */
export function setSanitizedHTML(
  node: HTMLElement,
  html: string,
  sanitizer: IRenderMime.ISanitizer
): void {
  if (!html) {
    node.textContent = 'No description.';
    node.classList.add('mz-mod-empty');
    return;
  }
  node.innerHTML = sanitizer.sanitize(html);
  for (const link of Array.from(node.querySelectorAll('a'))) {
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
  }
}

function versionText(record: IRecordDetails): string {
  const v = record.versions;
  const name = v.version || record.version;
  const position =
    v.index && v.count
      ? `${v.index} of ${v.count}${v.is_latest ? ', latest' : ''}`
      : v.is_latest
        ? 'latest'
        : '';
  if (name) {
    return position ? `${name} (${position})` : name;
  }
  return position ? `version ${position}` : 'not stated';
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'Zenodo';
  }
}
