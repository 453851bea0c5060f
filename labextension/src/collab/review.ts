import type { ISharedCell, ISharedNotebook } from '@jupyter/ydoc';
import { Dialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { button, h } from '../dom';

/**
 * The cells a merge flagged for review, as the server marks them: cell
 * metadata `mesh_zenodo.conflict` = `{id, side, label, deleted_by?}`. A "both
 * changed" conflict is two adjacent cells with one id (side `mine`, then side
 * `theirs`); "deleted on one side, edited on the other" is one cell with side
 * `edited`.
 */

/** The metadata key the server flags cells under. */
export const CONFLICT_KEY = 'mesh_zenodo';

export type Side = 'mine' | 'theirs' | 'edited';

export interface IConflictMark {
  id: string;
  side: Side;
  /** Who this version is from. */
  label: string;
  /** For `edited`: which side deleted the cell. */
  deleted_by?: 'mine' | 'theirs';
  /** For `edited`: who deleted it. */
  deleted_by_label?: string;
}

/** One conflict of a notebook, with its cells (as they are now). */
export interface IConflict {
  id: string;
  /** `both`: two versions of one cell; `edited`: one cell the other side deleted. */
  kind: 'both' | 'edited';
  mine?: ISharedCell;
  theirs?: ISharedCell;
  edited?: ISharedCell;
  marks: Map<ISharedCell, IConflictMark>;
}

/** What the user chose for a conflict. */
export type Choice = 'mine' | 'theirs' | 'both' | 'keep' | 'delete';

/**
 * The conflict flag of a cell, or null.
 */
export function conflictMark(cell: ISharedCell): IConflictMark | null {
  const meta = cell.getMetadata(CONFLICT_KEY) as Record<string, any> | undefined;
  const mark = meta && typeof meta === 'object' ? meta.conflict : undefined;
  if (!mark || typeof mark !== 'object' || typeof mark.id !== 'string') {
    return null;
  }
  const side: Side = mark.side === 'theirs' || mark.side === 'edited' ? mark.side : 'mine';
  return {
    id: mark.id,
    side,
    label: typeof mark.label === 'string' ? mark.label : '',
    deleted_by: mark.deleted_by === 'mine' || mark.deleted_by === 'theirs' ? mark.deleted_by : undefined,
    deleted_by_label: typeof mark.deleted_by_label === 'string' ? mark.deleted_by_label : undefined
  };
}

/**
 * Whether any cell of `notebook` is flagged.
 */
export function hasConflicts(notebook: ISharedNotebook | null | undefined): boolean {
  return !!notebook && notebook.cells.some(cell => conflictMark(cell) !== null);
}

/**
 * The conflicts of `notebook`, in the order of their first cell.
 */
export function findConflicts(notebook: ISharedNotebook): IConflict[] {
  const byId = new Map<string, IConflict>();
  for (const cell of notebook.cells) {
    const mark = conflictMark(cell);
    if (!mark) {
      continue;
    }
    let conflict = byId.get(mark.id);
    if (!conflict) {
      conflict = { id: mark.id, kind: mark.side === 'edited' ? 'edited' : 'both', marks: new Map() };
      byId.set(mark.id, conflict);
    }
    conflict.marks.set(cell, mark);
    if (mark.side === 'edited') {
      conflict.kind = 'edited';
      conflict.edited = cell;
    } else {
      conflict[mark.side] = conflict[mark.side] ?? cell;
    }
  }
  for (const conflict of byId.values()) {
    // one version of a pair is gone (deleted since): what is left is reviewed as one cell
    if (conflict.kind === 'both' && (!conflict.mine || !conflict.theirs)) {
      conflict.kind = 'edited';
      conflict.edited = conflict.mine ?? conflict.theirs;
    }
  }
  return Array.from(byId.values());
}

/**
 * Apply a choice to the notebook's shared model (the live document: it syncs
 * to the others): delete the cells not kept, unflag the kept ones.
 */
export function resolveConflict(notebook: ISharedNotebook, conflict: IConflict, choice: Choice): void {
  const cells = Array.from(conflict.marks.keys());
  let keep: ISharedCell[];
  switch (choice) {
    case 'mine':
      keep = conflict.mine ? [conflict.mine] : [];
      break;
    case 'theirs':
      keep = conflict.theirs ? [conflict.theirs] : [];
      break;
    case 'delete':
      keep = [];
      break;
    default:
      keep = cells;
  }
  const drop = cells.filter(cell => !keep.includes(cell));
  notebook.transact(() => {
    for (const cell of keep) {
      unflag(cell);
    }
    const indices = drop
      .map(cell => notebook.cells.indexOf(cell))
      .filter(index => index >= 0)
      .sort((a, b) => b - a);
    for (const index of indices) {
      notebook.deleteCell(index);
    }
  });
}

function unflag(cell: ISharedCell): void {
  const meta = cell.getMetadata(CONFLICT_KEY);
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) {
    cell.deleteMetadata(CONFLICT_KEY);
    return;
  }
  const rest: Record<string, any> = { ...(meta as Record<string, any>) };
  delete rest.conflict;
  if (Object.keys(rest).length === 0) {
    cell.deleteMetadata(CONFLICT_KEY);
  } else {
    cell.setMetadata(CONFLICT_KEY, rest);
  }
}

/**
 * Calls `callback` (at most once a frame) when the flagged cells of a notebook
 * may have changed: cells added, deleted or moved, or a cell's metadata
 * changed (a merge from a live room, a choice in the review dialog).
 */
export class ConflictWatch implements IDisposable {
  constructor(
    private readonly _notebook: ISharedNotebook,
    private readonly _callback: () => void
  ) {
    _notebook.changed.connect(this._onNotebook, this);
    this._connectCells();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._notebook.changed.disconnect(this._onNotebook, this);
    for (const cell of this._cells) {
      cell.metadataChanged.disconnect(this._schedule, this);
    }
    this._cells.clear();
    if (this._frame) {
      cancelAnimationFrame(this._frame);
    }
  }

  private _onNotebook(): void {
    this._connectCells();
    this._schedule();
  }

  private _connectCells(): void {
    const now = new Set(this._notebook.cells);
    for (const cell of this._cells) {
      if (!now.has(cell)) {
        cell.metadataChanged.disconnect(this._schedule, this);
        this._cells.delete(cell);
      }
    }
    for (const cell of now) {
      if (!this._cells.has(cell)) {
        cell.metadataChanged.connect(this._schedule, this);
        this._cells.add(cell);
      }
    }
  }

  private _schedule(): void {
    if (this._frame || this._disposed) {
      return;
    }
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      if (!this._disposed) {
        this._callback();
      }
    });
  }

  private _cells = new Set<ISharedCell>();
  private _frame = 0;
  private _disposed = false;
}

function sourceOf(cell: ISharedCell): string {
  const source = cell.getSource();
  return typeof source === 'string' ? source : JSON.stringify(source);
}

/**
 * The body of the review dialog: each conflict side by side (mine | theirs),
 * with its choices. Redrawn whenever the notebook changes (a choice here, or
 * an edit from someone else).
 */
export class MergeReviewBody extends Widget {
  constructor(
    private readonly _notebook: ISharedNotebook,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('mz-MergeDialog-body');
    this.node.dataset.testid = 'mz-merge-body';
    this._watch = new ConflictWatch(_notebook, () => this._render());
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._watch.dispose();
    super.dispose();
  }

  private _render(): void {
    const trans = this._trans;
    const conflicts = findConflicts(this._notebook);
    if (conflicts.length === 0) {
      this.node.replaceChildren(
        h('div', { className: 'mz-Empty', testid: 'mz-merge-done' }, trans.__('No cells need review.'))
      );
      return;
    }
    this.node.replaceChildren(
      h(
        'div',
        { className: 'mz-MergeDialog-intro' },
        trans._n(
          '%1 conflict needs review: choose which version to keep.',
          '%1 conflicts need review: choose which version to keep.',
          conflicts.length
        )
      ),
      ...conflicts.map(conflict => this._conflict(conflict))
    );
  }

  private _conflict(conflict: IConflict): HTMLElement {
    const trans = this._trans;
    const choose = (choice: Choice) => () => {
      resolveConflict(this._notebook, conflict, choice);
      this._render();
    };
    const position = (cell: ISharedCell) => this._notebook.cells.indexOf(cell) + 1;
    let title: string;
    let sides: HTMLElement[];
    let actions: HTMLButtonElement[];
    if (conflict.kind === 'both') {
      const mine = conflict.mine!;
      const theirs = conflict.theirs!;
      title = trans.__('Cell %1: changed in both versions', position(mine));
      sides = [
        this._side('mine', trans.__('Mine'), conflict.marks.get(mine)!.label, mine),
        this._side('theirs', trans.__('Theirs'), conflict.marks.get(theirs)!.label, theirs)
      ];
      actions = [
        button(trans.__('Keep mine'), { testid: 'mz-merge-keep-mine', onClick: choose('mine') }),
        button(trans.__('Take theirs'), { testid: 'mz-merge-take-theirs', onClick: choose('theirs') }),
        button(trans.__('Keep both'), { testid: 'mz-merge-keep-both', onClick: choose('both') })
      ];
    } else {
      const cell = conflict.edited!;
      const mark = conflict.marks.get(cell)!;
      const deleter =
        mark.deleted_by_label ||
        (mark.deleted_by === 'mine' ? trans.__('you') : mark.deleted_by === 'theirs' ? trans.__('the other version') : '');
      title = deleter
        ? trans.__('Cell %1: edited by %2, deleted by %3', position(cell), mark.label || trans.__('someone'), deleter)
        : trans.__('Cell %1: needs review', position(cell));
      sides = [this._side('edited', trans.__('Edited'), mark.label, cell)];
      actions = [
        button(trans.__('Keep edit'), { testid: 'mz-merge-keep-edit', onClick: choose('keep') }),
        button(trans.__('Delete cell'), { testid: 'mz-merge-delete-cell', onClick: choose('delete') })
      ];
    }
    return h(
      'section',
      {
        className: `mz-MergeDialog-conflict mz-mod-${conflict.kind}`,
        testid: 'mz-merge-conflict',
        attrs: { 'data-conflict': conflict.id }
      },
      h('div', { className: 'mz-MergeDialog-title' }, title),
      h('div', { className: 'mz-MergeDialog-sides' }, ...sides),
      h('div', { className: 'mz-MergeDialog-actions' }, ...actions)
    );
  }

  private _side(side: Side, name: string, label: string, cell: ISharedCell): HTMLElement {
    return h(
      'div',
      { className: `mz-MergeDialog-side mz-mod-${side}`, testid: `mz-merge-${side}` },
      h(
        'div',
        { className: 'mz-MergeDialog-label' },
        label ? this._trans.__('%1 (%2)', name, label) : name
      ),
      h('pre', { className: 'mz-MergeDialog-source' }, sourceOf(cell))
    );
  }

  private _watch: ConflictWatch;
}

/**
 * Open the review dialog of a notebook (Lab's `Dialog`, one Close button).
 */
export async function openReviewDialog(options: {
  notebook: ISharedNotebook;
  path: string;
  trans: TranslationBundle;
}): Promise<void> {
  const { notebook, path, trans } = options;
  const body = new MergeReviewBody(notebook, trans);
  const dialog = new Dialog({
    title: trans.__('Review merged cells of “%1”', PathExt.basename(path) || path),
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Close') })],
    defaultButton: -1
  });
  dialog.addClass('mz-MergeDialog');
  try {
    await dialog.launch();
  } finally {
    body.dispose();
    dialog.dispose();
  }
}
