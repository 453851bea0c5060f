import { MainAreaWidget } from '@jupyterlab/apputils';
import { PathExt, Time } from '@jupyterlab/coreutils';
import type * as nbformat from '@jupyterlab/nbformat';
import { Contents } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { h } from '../dom';
import { errorBox } from '../feedback';

/** How often a preview checks whether the stored file changed (ms). */
const PREVIEW_INTERVAL = 5000;

function text(value: nbformat.MultilineString | undefined | null): string {
  if (value === undefined || value === null) {
    return '';
  }
  return Array.isArray(value) ? value.join('') : String(value);
}

/**
 * A read-only view of a file as stored: a notebook as a list of cells
 * (markdown as text, code and text outputs in `<pre>`), text in `<pre>`.
 * Checks every 5 s whether the file changed and redraws it when it did.
 */
export class PreviewContent extends Widget {
  constructor(
    private readonly _contents: Contents.IManager,
    readonly path: string,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('mz-Preview');
    this.node.dataset.testid = 'mz-preview';
    this.node.dataset.path = path;
    this._header = h(
      'div',
      { className: 'mz-Preview-header' },
      _trans.__(
        'Read-only preview of %1 as stored (refreshed when it changes)',
        PathExt.basename(path) || path
      )
    );
    this._when = h('div', { className: 'mz-Preview-when' });
    this._body = h('div', { className: 'mz-Preview-body', testid: 'mz-preview-body' });
    this.node.append(this._header, this._when, this._body);
    this._poll = new Poll({
      auto: false,
      factory: () => this._check(),
      frequency: { interval: PREVIEW_INTERVAL, backoff: true, max: 12 * PREVIEW_INTERVAL },
      name: 'mesh-zenodo:preview',
      standby: 'when-hidden'
    });
    void this.refresh().then(() => this._poll.start());
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    super.dispose();
  }

  /** Read the stored file again and redraw. */
  async refresh(): Promise<void> {
    let model: Contents.IModel;
    try {
      model = await this._contents.get(this.path, { content: true });
    } catch (error) {
      if (!this.isDisposed) {
        this._body.replaceChildren(
          errorBox({ title: this._trans.__('Cannot read the file'), message: (error as Error).message })
        );
      }
      return;
    }
    if (this.isDisposed) {
      return;
    }
    this._lastModified = model.last_modified;
    this._when.textContent = model.last_modified
      ? this._trans.__('Saved %1', Time.format(model.last_modified))
      : '';
    this._body.replaceChildren(...this._render(model));
  }

  private async _check(): Promise<void> {
    const model = await this._contents.get(this.path, { content: false });
    if (!this.isDisposed && model.last_modified !== this._lastModified) {
      await this.refresh();
    }
  }

  private _render(model: Contents.IModel): HTMLElement[] {
    const trans = this._trans;
    if (model.type === 'notebook' && model.content) {
      const notebook = model.content as nbformat.INotebookContent;
      return notebook.cells.map((cell, index) => this._cell(cell, index));
    }
    if (model.format === 'text' || model.format === 'json') {
      const content = typeof model.content === 'string' ? model.content : JSON.stringify(model.content, null, 1);
      return [h('pre', { className: 'mz-Preview-text', testid: 'mz-preview-text' }, content)];
    }
    return [h('div', { className: 'mz-Empty' }, trans.__('A binary file: no preview.'))];
  }

  private _cell(cell: nbformat.ICell, index: number): HTMLElement {
    const type = cell.cell_type;
    const source = text(cell.source);
    const node = h('div', {
      className: `mz-Preview-cell mz-mod-${type}`,
      testid: 'mz-preview-cell',
      attrs: { 'data-index': String(index), 'data-type': type }
    });
    if (type === 'markdown') {
      node.append(h('div', { className: 'mz-Preview-markdown' }, source));
      return node;
    }
    node.append(h('pre', { className: 'mz-Preview-source' }, source));
    if (type === 'code') {
      for (const output of (cell as nbformat.ICodeCell).outputs ?? []) {
        const shown = this._output(output);
        if (shown !== null) {
          node.append(h('pre', { className: 'mz-Preview-output' }, shown));
        }
      }
    }
    return node;
  }

  private _output(output: nbformat.IOutput): string | null {
    switch (output.output_type) {
      case 'stream':
        return text((output as nbformat.IStream).text);
      case 'error': {
        const error = output as nbformat.IError;
        return `${error.ename}: ${error.evalue}`;
      }
      case 'execute_result':
      case 'display_data': {
        const data = (output as nbformat.IExecuteResult).data ?? {};
        const plain = data['text/plain'] as nbformat.MultilineString | undefined;
        return plain === undefined ? this._trans.__('[rich output]') : text(plain);
      }
      default:
        return null;
    }
  }

  private _header: HTMLElement;
  private _when: HTMLElement;
  private _body: HTMLElement;
  private _poll: Poll;
  private _lastModified: string | undefined;
}

/**
 * The open previews, one per path.
 */
export class Previews {
  constructor(
    private readonly _options: {
      contents: Contents.IManager;
      trans: TranslationBundle;
      /** Put a new preview in the main area. */
      add: (widget: MainAreaWidget<PreviewContent>) => void;
      /** Show an existing one. */
      activate: (id: string) => void;
    }
  ) {}

  /** Open (or show again) the preview of `path`. */
  open(path: string): MainAreaWidget<PreviewContent> {
    const open = this._open.get(path);
    if (open && !open.isDisposed) {
      void open.content.refresh();
      this._options.activate(open.id);
      return open;
    }
    const { contents, trans } = this._options;
    const content = new PreviewContent(contents, path, trans);
    const widget = new MainAreaWidget({ content });
    widget.id = `mz-preview-${++Private.counter}`;
    widget.title.label = trans.__('%1 (stored)', PathExt.basename(path) || path);
    widget.title.caption = trans.__('Read-only preview of %1 as stored', path);
    widget.title.closable = true;
    widget.addClass('mz-PreviewPanel');
    this._open.set(path, widget);
    widget.disposed.connect(() => {
      if (this._open.get(path) === widget) {
        this._open.delete(path);
      }
    });
    this._options.add(widget);
    this._options.activate(widget.id);
    return widget;
  }

  private _open = new Map<string, MainAreaWidget<PreviewContent>>();
}

namespace Private {
  export let counter = 0;
}
