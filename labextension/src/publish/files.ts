import { TranslationBundle } from '@jupyterlab/translation';

import { button, h } from '../dom';
import { humanSize } from '../zenodo/format';
import { IFolderFile, IPrepared } from './api';
import { uid } from './fields';

/**
 * The files of the folder, each with its checkbox, and how many are chosen.
 */
export class FileChooser {
  /**
   * @param selected - the relative paths chosen before; `null` for all of them.
   */
  constructor(
    trans: TranslationBundle,
    prepared: IPrepared,
    selected: string[] | null | undefined,
    includeHidden: boolean
  ) {
    this._trans = trans;
    this._prepared = prepared;
    this._includeHidden = h('input', {
      testid: 'mz-publish-include-hidden',
      attrs: { type: 'checkbox', id: uid('hidden') }
    });
    this._includeHidden.checked = includeHidden;
    const wanted = selected ? new Set(selected) : null;
    for (const file of [...prepared.files, ...prepared.hidden_files]) {
      if (!wanted || wanted.has(file.path)) {
        this._selected.add(file.path);
      }
    }
    this._fileList = h('ul', { className: 'mz-PublishDialog-files', testid: 'mz-publish-files' });
    this._fileSummary = h('div', { className: 'mz-Form-help', testid: 'mz-publish-files-summary' });
    this._includeHidden.addEventListener('change', () => this._renderFiles());
    this._renderFiles();
  }

  /** The files of the folder the form lists now (hidden ones only if asked). */
  get shownFiles(): IFolderFile[] {
    return this._includeHidden.checked
      ? [...this._prepared.files, ...this._prepared.hidden_files]
      : this._prepared.files;
  }

  /** The files chosen, as they will be published. */
  get chosenFiles(): IFolderFile[] {
    return this.shownFiles.filter(f => this._selected.has(f.path));
  }

  /** Whether the hidden files are listed. */
  get includeHidden(): boolean {
    return this._includeHidden.checked;
  }

  /** The field of the form: the tools, the list, the summary, then `slot`. */
  field(slot: HTMLElement): HTMLElement {
    const trans = this._trans;
    return h(
      'div',
      { className: 'mz-Form-field mz-PublishDialog-field', attrs: { 'data-field': 'files' } },
      h(
        'div',
        { className: 'mz-PublishDialog-fileTools' },
        h('label', { className: 'mz-Form-check' }, this._includeHidden, trans.__('Include hidden files')),
        button(trans.__('All'), {
          testid: 'mz-publish-files-all',
          onClick: () => {
            this.shownFiles.forEach(f => this._selected.add(f.path));
            this._renderFiles();
          }
        }),
        button(trans.__('None'), {
          testid: 'mz-publish-files-none',
          onClick: () => {
            this._selected.clear();
            this._renderFiles();
          }
        })
      ),
      this._fileList,
      this._fileSummary,
      h(
        'div',
        { className: 'mz-Form-help' },
        trans.__(
          'Files at the top of the folder go as they are; each subfolder goes as one ZIP file, with a manifest.json listing every file.'
        )
      ),
      slot
    );
  }

  private _renderFiles(): void {
    const trans = this._trans;
    const shown = this.shownFiles;
    this._fileList.replaceChildren(
      ...shown.map(file => {
        const box = h('input', {
          testid: 'mz-publish-file-check',
          attrs: { type: 'checkbox', 'aria-label': file.path }
        });
        box.checked = this._selected.has(file.path);
        box.addEventListener('change', () => {
          if (box.checked) {
            this._selected.add(file.path);
          } else {
            this._selected.delete(file.path);
          }
          this._renderSummary();
        });
        return h(
          'li',
          {
            className: 'mz-PublishDialog-file',
            testid: 'mz-publish-file',
            attrs: { 'data-path': file.path }
          },
          h(
            'label',
            { className: 'mz-PublishDialog-fileLabel' },
            box,
            h('span', { className: 'mz-PublishDialog-fileName', title: file.path }, file.path)
          ),
          h('span', { className: 'mz-PublishDialog-fileSize' }, humanSize(file.size))
        );
      })
    );
    if (!shown.length) {
      this._fileList.append(h('li', { className: 'mz-Empty' }, trans.__('No files to publish.')));
    }
    this._renderSummary();
  }

  private _renderSummary(): void {
    const chosen = this.chosenFiles;
    const total = chosen.reduce((sum, f) => sum + f.size, 0);
    const hidden = this._prepared.hidden_files.length;
    this._fileSummary.textContent = [
      this._trans._n(
        '%2 of %1 file chosen · %3',
        '%2 of %1 files chosen · %3',
        this.shownFiles.length,
        chosen.length,
        humanSize(total)
      ),
      hidden && !this._includeHidden.checked
        ? this._trans._n('%1 hidden file left out', '%1 hidden files left out', hidden)
        : ''
    ]
      .filter(Boolean)
      .join(' · ');
  }

  private _trans: TranslationBundle;
  private _prepared: IPrepared;
  private _selected = new Set<string>();
  private _includeHidden: HTMLInputElement;
  private _fileList: HTMLElement;
  private _fileSummary: HTMLElement;
}
