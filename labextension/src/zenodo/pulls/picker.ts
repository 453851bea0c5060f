import { Dialog, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { Contents } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { folderIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { button, h, spinner } from '../../dom';
import { errorBox } from '../../feedback';

/**
 * Ask for a folder of Lab's default drive (the CS3 storage) in a Lab dialog
 * with a small folder browser; resolves with its path (`''` for the top
 * folder), or null when the user cancels.
 */
export async function pickFolder(options: FolderPicker.IOptions & {
  title: string;
}): Promise<string | null> {
  const picker = new FolderPicker(options);
  const trans = options.trans;
  const result = await showDialog<Promise<string>>({
    title: options.title,
    body: picker,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Select'), className: 'mz-FolderPicker-select' })
    ],
    focusNodeSelector: '.mz-FolderPicker-list'
  });
  if (!result.button.accept || result.value === null) {
    return null;
  }
  return result.value;
}

/**
 * A folder browser for a dialog's body, over the contents API: breadcrumbs,
 * the folders of the current folder (click selects, double-click or Enter
 * opens, arrows move), and "New folder", which creates a folder, lets the
 * user name it in place and stays in the picker with the folder selected.
 *
 * Its value is the selected folder, else the folder shown.
 */
export class FolderPicker extends Widget implements Dialog.IBodyWidget<Promise<string>> {
  constructor(options: FolderPicker.IOptions) {
    super();
    this.addClass('mz-FolderPicker');
    this.node.dataset.testid = 'mz-folder-picker';
    this._contents = options.contents;
    const trans = (this._trans = options.trans);

    this._crumbs = h('nav', {
      className: 'mz-FolderPicker-crumbs',
      testid: 'mz-folder-crumbs',
      attrs: { 'aria-label': trans.__('Folder path') }
    });
    this._newFolder = button(trans.__('New folder'), {
      className: 'mz-FolderPicker-new',
      testid: 'mz-folder-new',
      title: trans.__('Create a folder here and name it'),
      onClick: () => void this._createFolder()
    });
    this._list = h('ul', {
      className: 'mz-FolderPicker-list',
      testid: 'mz-folder-list',
      attrs: { role: 'listbox', 'aria-label': trans.__('Folders'), tabindex: '-1' }
    });
    this._list.addEventListener('keydown', this._onListKey);
    this._status = h('div', { className: 'mz-FolderPicker-status' });
    this._target = h('div', {
      className: 'mz-FolderPicker-target',
      testid: 'mz-folder-target',
      attrs: { 'aria-live': 'polite' }
    });
    this.node.append(
      options.label ? h('p', { className: 'mz-FolderPicker-label' }, options.label) : '',
      h('div', { className: 'mz-FolderPicker-bar' }, this._crumbs, this._newFolder),
      this._list,
      this._status,
      this._target
    );
    void this._open(options.path ?? '', true);
  }

  /**
   * The chosen folder, once a rename being saved is done.
   */
  getValue(): Promise<string> {
    return this._pending.then(() => this._chosen());
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._stopEditing();
    super.dispose();
  }

  /** The folder shown (`''` for the top folder). */
  get path(): string {
    return this._path;
  }

  private _chosen(): string {
    return this._selected ? PathExt.join(this._path, this._selected) : this._path;
  }

  /**
   * Show the folders of `path`; select `select` if given.
   */
  private async _open(path: string, fallBackToTop = false, select: string | null = null): Promise<void> {
    const trans = this._trans;
    const seq = ++this._seq;
    this._stopEditing();
    this._list.replaceChildren(h('li', { className: 'mz-FolderPicker-note' }, spinner(trans.__('Loading…'))));
    let model: Contents.IModel;
    try {
      model = await this._contents.get(path, { content: true, type: 'directory' });
    } catch (error) {
      if (seq !== this._seq) {
        return;
      }
      if (fallBackToTop && path) {
        return this._open('', false); // the last folder is gone: start at the top
      }
      this._list.replaceChildren();
      this._showError(trans.__('Cannot open the folder'), error);
      return;
    }
    if (seq !== this._seq) {
      return;
    }
    this._path = model.path;
    this._folders = ((model.content ?? []) as Contents.IModel[])
      .filter(item => item.type === 'directory' && !item.name.startsWith('.'))
      .map(item => item.name)
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' }));
    this._selected = select && this._folders.includes(select) ? select : null;
    this._status.replaceChildren();
    this._renderCrumbs();
    this._renderList();
  }

  private _renderCrumbs(): void {
    const trans = this._trans;
    const parts = this._path.split('/').filter(Boolean);
    const crumb = (label: string, path: string, title: string) =>
      h(
        'button',
        {
          className: 'mz-FolderPicker-crumb',
          title,
          attrs: { type: 'button', 'data-path': path },
          onClick: () => void this._open(path)
        },
        label
      );
    const nodes: (HTMLElement | string)[] = [
      crumb('/', '', trans.__('The top folder'))
    ];
    parts.forEach((part, index) => {
      if (index > 0) {
        nodes.push(h('span', { className: 'mz-FolderPicker-sep', attrs: { 'aria-hidden': 'true' } }, '/'));
      }
      nodes.push(crumb(part, parts.slice(0, index + 1).join('/'), trans.__('Open %1', part)));
    });
    this._crumbs.replaceChildren(...nodes);
  }

  private _renderList(): void {
    const trans = this._trans;
    if (!this._folders.length) {
      this._list.replaceChildren(
        h('li', { className: 'mz-FolderPicker-note', testid: 'mz-folder-empty' }, trans.__('No folders here.'))
      );
    } else {
      this._list.replaceChildren(...this._folders.map(name => this._item(name)));
    }
    this._updateTarget();
  }

  private _item(name: string): HTMLElement {
    const selected = name === this._selected;
    const item = h(
      'li',
      {
        className: `mz-FolderPicker-item${selected ? ' mz-mod-selected' : ''}`,
        testid: 'mz-folder-item',
        title: this._trans.__('Double-click or press Enter to open %1', name),
        attrs: {
          role: 'option',
          'aria-selected': String(selected),
          'data-name': name,
          tabindex: selected || (!this._selected && name === this._folders[0]) ? '0' : '-1'
        }
      },
      folderIcon.element({ tag: 'span', className: 'mz-FolderPicker-icon' }),
      h('span', { className: 'mz-FolderPicker-name' }, name)
    );
    item.addEventListener('click', () => this._select(name));
    item.addEventListener('dblclick', () => void this._open(PathExt.join(this._path, name)));
    return item;
  }

  private _itemNode(name: string): HTMLElement | null {
    return this._list.querySelector<HTMLElement>(`[data-name="${CSS.escape(name)}"]`);
  }

  private _select(name: string | null, focus = false): void {
    if (this._editing) {
      return;
    }
    this._selected = name;
    for (const node of Array.from(this._list.querySelectorAll<HTMLElement>('.mz-FolderPicker-item'))) {
      const on = node.dataset.name === name;
      node.classList.toggle('mz-mod-selected', on);
      node.setAttribute('aria-selected', String(on));
      node.tabIndex = on ? 0 : -1;
    }
    if (name && focus) {
      this._itemNode(name)?.focus();
    }
    this._updateTarget();
  }

  private _updateTarget(): void {
    const path = this._chosen();
    this._target.replaceChildren(
      h('span', { className: 'mz-FolderPicker-targetLabel' }, this._trans.__('Save in:')),
      ' ',
      h('span', { className: 'mz-FolderPicker-targetPath', title: `/${path}` }, `/${path}`)
    );
  }

  private _onListKey = (event: KeyboardEvent): void => {
    if (this._editing) {
      return;
    }
    const names = this._folders;
    const index = this._selected ? names.indexOf(this._selected) : -1;
    switch (event.key) {
      case 'Enter':
        if (this._selected) {
          event.preventDefault();
          void this._open(PathExt.join(this._path, this._selected));
        }
        break;
      case 'ArrowDown':
        event.preventDefault();
        if (names.length) {
          this._select(names[Math.min(index + 1, names.length - 1)], true);
        }
        break;
      case 'ArrowUp':
        event.preventDefault();
        if (names.length) {
          this._select(names[Math.max(index - 1, 0)], true);
        }
        break;
      case 'Backspace':
        if (this._path) {
          event.preventDefault();
          const up = PathExt.dirname(this._path);
          void this._open(up === '.' ? '' : up, false, PathExt.basename(this._path));
        }
        break;
    }
  };

  /**
   * "New folder": create it, then name it in place; the picker stays open.
   */
  private async _createFolder(): Promise<void> {
    if (this._editing) {
      return;
    }
    const trans = this._trans;
    const path = this._path;
    this._newFolder.disabled = true;
    let model: Contents.IModel;
    try {
      model = await this._contents.newUntitled({ path, type: 'directory' });
    } catch (error) {
      this._showError(trans.__('Cannot create a folder'), error);
      return;
    } finally {
      this._newFolder.disabled = false;
    }
    await this._open(path, false, model.name);
    if (this._path === path) {
      this._editName(model.name);
    }
  }

  /**
   * An input in place of the name of folder `name`: Enter (or leaving it)
   * renames the folder, Escape keeps its name.
   */
  private _editName(name: string): void {
    const node = this._itemNode(name);
    const label = node?.querySelector<HTMLElement>('.mz-FolderPicker-name');
    if (!node || !label) {
      return;
    }
    const trans = this._trans;
    const input = h('input', {
      className: 'mz-Form-input mz-FolderPicker-editor',
      testid: 'mz-folder-name',
      attrs: { type: 'text', 'aria-label': trans.__('Name of the new folder'), spellcheck: 'false' }
    });
    input.value = name;
    label.replaceWith(input);
    this._editing = { name, input, label };
    // Enter and Escape must reach the input before the dialog (which would
    // accept or close on them): listen on the document, in the capture phase
    document.addEventListener('keydown', this._onEditKey, true);
    input.addEventListener('blur', this._onEditBlur);
    input.focus();
    input.select();
  }

  private _onEditKey = (event: KeyboardEvent): void => {
    const editing = this._editing;
    if (!editing || event.target !== editing.input) {
      return;
    }
    if (event.key === 'Enter' || event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      if (event.key === 'Enter') {
        void this._commit();
      } else {
        this._stopEditing();
        this._select(editing.name, true);
      }
    }
  };

  private _onEditBlur = (): void => {
    void this._commit();
  };

  /**
   * Rename the folder being named (if the name changed); the picker's value
   * waits for it.
   */
  private _commit(): Promise<void> {
    const editing = this._editing;
    if (!editing || this._committing) {
      return this._pending;
    }
    const trans = this._trans;
    const name = editing.input.value.trim();
    if (!name || name === editing.name) {
      this._stopEditing();
      this._select(editing.name, true);
      return this._pending;
    }
    if (name.includes('/') || name === '.' || name === '..') {
      this._status.replaceChildren(
        h(
          'div',
          { className: 'mz-FolderPicker-error', testid: 'mz-folder-error', attrs: { role: 'alert' } },
          trans.__('“%1” cannot be a folder name.', name)
        )
      );
      editing.input.focus();
      return this._pending;
    }
    const path = this._path;
    this._committing = true;
    const done = this._contents
      .rename(PathExt.join(path, editing.name), PathExt.join(path, name))
      .then(
        async () => {
          this._committing = false;
          this._stopEditing();
          await this._open(path, false, name);
          this._itemNode(name)?.focus();
        },
        error => {
          this._committing = false;
          this._showError(trans.__('Cannot rename the folder to “%1”', name), error);
          editing.input.focus();
          editing.input.select();
        }
      );
    this._pending = this._pending.then(() => done);
    return this._pending;
  }

  private _stopEditing(): void {
    const editing = this._editing;
    if (!editing) {
      return;
    }
    this._editing = null;
    document.removeEventListener('keydown', this._onEditKey, true);
    editing.input.removeEventListener('blur', this._onEditBlur);
    if (editing.input.isConnected) {
      editing.input.replaceWith(editing.label);
    }
  }

  private _showError(title: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this._status.replaceChildren(
      errorBox({ title, message }, { testid: 'mz-folder-error' })
    );
  }

  private _contents: Contents.IManager;
  private _trans: TranslationBundle;
  private _crumbs: HTMLElement;
  private _newFolder: HTMLButtonElement;
  private _list: HTMLElement;
  private _status: HTMLElement;
  private _target: HTMLElement;
  private _path = '';
  private _folders: string[] = [];
  private _selected: string | null = null;
  private _seq = 0;
  private _editing: { name: string; input: HTMLInputElement; label: HTMLElement } | null = null;
  private _committing = false;
  private _pending: Promise<void> = Promise.resolve();
}

export namespace FolderPicker {
  export interface IOptions {
    /** Lab's contents manager (its default drive is the CS3 storage). */
    contents: Contents.IManager;
    /** The folder shown first; the top folder when it is gone. */
    path?: string;
    /** What the folder is for. */
    label?: string;
    trans: TranslationBundle;
  }
}
