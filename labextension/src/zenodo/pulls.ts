import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { FileDialog } from '@jupyterlab/filebrowser';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import {
  IJob,
  IJobItem,
  IRecordDetails,
  IZenodoFailure,
  OnConflict,
  ZenodoAPI,
  toFailure
} from './api';
import { button, h, humanSize, progressBar } from './dom';
import { errorBox } from './feedback';

/** How often a running pull is polled. */
const POLL_MS = 500;

/** The command of Lab's file browser that shows a folder. */
const GO_TO_PATH = 'filebrowser:go-to-path';

export type PullState =
  | 'starting'
  | 'running'
  | 'asking'
  | 'done'
  | 'failed'
  | 'cancelled';

/**
 * One "Download to…" of the user: one or more server jobs (a second one
 * when name clashes are resolved by renaming or replacing).
 */
export class PullTask {
  constructor(
    private readonly _api: ZenodoAPI,
    readonly record: IPullSource,
    readonly keys: string[] | null,
    readonly destination: string
  ) {
    this.id = `pull-${++Private.counter}`;
    const wanted = keys ? record.files.filter(f => keys.includes(f.key)) : record.files;
    for (const file of wanted) {
      this._items.set(file.key, {
        id: file.key,
        name: file.key,
        state: 'pending',
        bytes_done: 0,
        bytes_total: file.size,
        message: null,
        result: null
      });
    }
  }

  readonly id: string;

  get state(): PullState {
    return this._state;
  }

  /** Why the pull could not start or go on (request-level), else null. */
  get failure(): IZenodoFailure | null {
    return this._failure;
  }

  /** The files, in the record's order, with their latest state. */
  get items(): IJobItem[] {
    return [...this._items.values()];
  }

  /** The folder as Lab shows it, `/` for the root. */
  get displayDestination(): string {
    return `/${this.destination}`;
  }

  get running(): boolean {
    return this._state === 'starting' || this._state === 'running';
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Overall progress in [0, 1], by bytes (files skipped are left out).
   */
  get fraction(): number {
    if (this._state === 'done') {
      return 1;
    }
    const counted = this.items.filter(i => i.state !== 'skipped' && i.state !== 'conflict');
    const total = counted.reduce((sum, i) => sum + i.bytes_total, 0);
    if (total > 0) {
      const done = counted.reduce((sum, i) => sum + Math.min(i.bytes_done, i.bytes_total), 0);
      return done / total;
    }
    const items = this.items;
    return items.length ? items.filter(i => FINAL.has(i.state)).length / items.length : 0;
  }

  /**
   * A task for a pull job that is already on the server (started before the
   * page was reloaded): it goes on showing its progress.
   */
  static fromJob(api: ZenodoAPI, job: IJob): PullTask {
    const [title, where] = job.title.split(' → ');
    const destination = job.result?.destination ?? (where ?? '').replace(/^\//, '');
    const source: IPullSource = {
      id: job.result?.record_id ?? '',
      title: title || job.title,
      files: job.items.map(item => ({ key: item.id, size: item.bytes_total }))
    };
    const task = new PullTask(api, source, job.items.map(i => i.id), destination);
    task._resume = job;
    return task;
  }

  /**
   * Start the pull; resolves when it has ended (however it ended).
   */
  async run(onConflict: (task: PullTask, names: string[]) => Promise<OnConflict>): Promise<void> {
    let request: { keys: string[] | null; on_conflict: OnConflict } = {
      keys: this.keys,
      on_conflict: 'ask'
    };
    for (;;) {
      const ended = await this._runJob(request.keys, request.on_conflict);
      if (ended && !this.record.id) {
        break; // a resumed job whose record is unknown: no follow-up request
      }
      if (!ended) {
        return;
      }
      const clashes = this.items.filter(i => i.state === 'conflict');
      if (!clashes.length || this._cancelRequested) {
        break;
      }
      this._setState('asking');
      const choice = await onConflict(this, clashes.map(i => i.name));
      if (choice === 'skip' || this._cancelRequested) {
        for (const item of clashes) {
          this._items.set(item.id, {
            ...item,
            state: 'skipped',
            message: `${item.name} already exists; left as it is`
          });
        }
        break;
      }
      request = { keys: clashes.map(i => i.id), on_conflict: choice };
    }
    this._finish();
  }

  /**
   * Cancel the running job: the server stops the transfers and removes
   * partial files.
   */
  async cancel(): Promise<void> {
    this._cancelRequested = true;
    const id = this._jobId;
    if (!id || !this.running) {
      this._changed.emit();
      return;
    }
    try {
      const { job } = await this._api.cancelJob(id);
      this._merge(job);
    } catch (error) {
      this._failure = toFailure(error);
    }
    this._changed.emit();
  }

  /**
   * One server job; returns false when the task ended with a request failure.
   */
  private async _runJob(keys: string[] | null, onConflict: OnConflict): Promise<boolean> {
    this._setState('starting');
    let job: IJob;
    const resumed = this._resume;
    this._resume = null;
    try {
      ({ job } = resumed
        ? { job: resumed }
        : await this._api.startPull({
        record_id: this.record.id,
        keys,
        destination: this.destination,
        on_conflict: onConflict,
        base_url: this.record.base_url
      }));
    } catch (error) {
      this._failure = toFailure(error);
      this._setState('failed');
      return false;
    }
    this._jobId = job.id;
    this._merge(job);
    this._setState('running');
    if (this._cancelRequested) {
      try {
        ({ job } = await this._api.cancelJob(job.id));
        this._merge(job);
      } catch {
        // the polling below reports what happened
      }
    }
    let misses = 0;
    while (job.state === 'running') {
      await Private.sleep(POLL_MS);
      try {
        ({ job } = await this._api.job(job.id));
        misses = 0;
      } catch (error) {
        const failure = toFailure(error);
        if (failure.status === 404 || ++misses >= 10) {
          this._failure = failure;
          this._setState('failed');
          return false;
        }
        continue;
      }
      this._merge(job);
      this._changed.emit();
    }
    this._lastJob = job;
    return true;
  }

  private _merge(job: IJob): void {
    for (const item of job.items) {
      this._items.set(item.id, item);
    }
    this._lastJob = job;
  }

  private _finish(): void {
    const items = this.items;
    if (this._lastJob?.state === 'cancelled' || items.some(i => i.state === 'cancelled')) {
      this._setState('cancelled');
    } else if (items.every(i => i.state === 'done' || i.state === 'skipped')) {
      this._setState('done');
    } else {
      if (!items.some(i => i.state === 'failed') && this._lastJob?.error) {
        this._failure = {
          message: this._lastJob.error.message,
          reason: this._lastJob.error.reason,
          status: 0,
          retryAfter: null
        };
      }
      this._setState('failed');
    }
  }

  private _setState(state: PullState): void {
    this._state = state;
    this._changed.emit();
  }

  private _items = new Map<string, IJobItem>();
  private _state: PullState = 'starting';
  private _failure: IZenodoFailure | null = null;
  private _jobId: string | null = null;
  private _lastJob: IJob | null = null;
  private _cancelRequested = false;
  private _resume: IJob | null = null;
  private _changed = new Signal<this, void>(this);
}

/**
 * What a pull needs to know of its record.
 */
export interface IPullSource {
  id: number | string;
  title: string;
  /** The Zenodo server the record is on. */
  base_url?: string;
  files: { key: string; size: number }[];
}

const FINAL = new Set(['done', 'skipped', 'conflict', 'failed', 'cancelled']);

/**
 * Starts pulls (after asking for a folder) and keeps the list the tray shows.
 */
export class PullManager {
  constructor(
    private readonly _app: JupyterFrontEnd,
    private readonly _api: ZenodoAPI,
    private readonly _docManager: IDocumentManager
  ) {}

  get tasks(): ReadonlyArray<PullTask> {
    return this._tasks;
  }

  /** Emitted when a task is added or removed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Ask for a folder on the storage (Lab's folder picker over the default
   * drive, i.e. the CS3 storage), then pull `keys` (all files when null).
   */
  async pickAndPull(record: IRecordDetails, keys: string[] | null): Promise<PullTask | null> {
    const what = keys && keys.length === 1 ? `“${keys[0]}”` : `the ${record.files.length} files of the record`;
    const result = await FileDialog.getExistingDirectory({
      manager: this._docManager,
      title: keys ? 'Download to…' : 'Download all to…',
      label: `Choose the folder of your ScienceMesh storage to save ${what} in.`,
      defaultPath: this._lastDestination
    });
    if (!result.button.accept) {
      return null;
    }
    const folder = result.value?.[0];
    const contents = this._app.serviceManager.contents;
    const path = contents.localPath(folder?.path ?? this._lastDestination ?? '');
    this._lastDestination = path;
    return this.pull(record, keys, path);
  }

  /**
   * Pull into `destination` (a folder path as Lab shows it).
   */
  pull(record: IPullSource, keys: string[] | null, destination: string): PullTask {
    const task = new PullTask(this._api, record, keys, destination.replace(/^\/+|\/+$/g, ''));
    this._add(task);
    return task;
  }

  /**
   * Show the pulls still running on the server (after a reload of the page).
   */
  async restore(): Promise<void> {
    if (this._restored) {
      return;
    }
    this._restored = true;
    let jobs: IJob[];
    try {
      ({ jobs } = await this._api.pulls());
    } catch {
      return; // nothing to show; a new pull will report what is wrong
    }
    for (const job of jobs.filter(j => j.state === 'running').reverse()) {
      this._add(PullTask.fromJob(this._api, job));
    }
  }

  private _add(task: PullTask): void {
    this._tasks.unshift(task);
    this._changed.emit();
    void task.run(askOnConflict).then(() => {
      if (task.state === 'done' || task.state === 'failed' || task.state === 'cancelled') {
        void this._refreshBrowsers(task.destination);
      }
    });
  }

  dismiss(task: PullTask): void {
    if (task.running || task.state === 'asking') {
      return;
    }
    this._tasks = this._tasks.filter(t => t !== task);
    this._changed.emit();
  }

  /**
   * Show the destination folder in Lab's file browser.
   */
  openFolder(task: PullTask): Promise<unknown> {
    return this._app.commands.execute(GO_TO_PATH, { path: task.destination });
  }

  private async _refreshBrowsers(path: string): Promise<void> {
    // Lab's browsers poll; this makes the new files show up now
    try {
      await this._app.serviceManager.contents.get(path, { content: false });
    } catch {
      // not important
    }
  }

  private _tasks: PullTask[] = [];
  private _restored = false;
  private _lastDestination: string | undefined;
  private _changed = new Signal<this, void>(this);
}

/**
 * Name clash: a Lab dialog asks whether to keep both, replace or skip.
 */
async function askOnConflict(task: PullTask, names: string[]): Promise<OnConflict> {
  const shown = names.slice(0, 8);
  const body = h(
    'div',
    { className: 'mz-zenodo-conflict', testid: 'mz-zenodo-conflict' },
    h(
      'p',
      {},
      names.length === 1
        ? `${names[0]} already exists in ${task.displayDestination}.`
        : `${names.length} files already exist in ${task.displayDestination}:`
    ),
    names.length > 1 &&
      h(
        'ul',
        { className: 'mz-zenodo-conflict-names' },
        ...shown.map(name => h('li', {}, name)),
        names.length > shown.length && h('li', {}, `and ${names.length - shown.length} more`)
      ),
    h(
      'p',
      { className: 'mz-zenodo-help' },
      'Keep both saves the Zenodo file under a new name, such as “data (1).csv”. ' +
        'Replace moves the existing file to the recycle bin. Skip leaves it as it is.'
    )
  );
  const result = await showDialog({
    title: names.length === 1 ? 'A file with that name exists' : 'Files with these names exist',
    body: new Widget({ node: body }),
    buttons: [
      Dialog.cancelButton({ label: 'Skip', className: 'mz-zenodo-conflict-skip' }),
      Dialog.warnButton({ label: 'Replace', className: 'mz-zenodo-conflict-replace' }),
      Dialog.okButton({ label: 'Keep both (rename)', className: 'mz-zenodo-conflict-rename' })
    ],
    defaultButton: 2
  });
  switch (result.button.label) {
    case 'Keep both (rename)':
      return 'rename';
    case 'Replace':
      return 'overwrite';
    default:
      return 'skip';
  }
}

/**
 * The downloads tray: one card per pull, with progress, cancel and outcome.
 */
export class PullTray {
  constructor(private readonly _manager: PullManager) {
    this.node = h('section', {
      className: 'mz-zenodo-tray',
      testid: 'mz-zenodo-pulls',
      attrs: { 'aria-label': 'Downloads from Zenodo' }
    });
    _manager.changed.connect(this._render, this);
    this._render();
  }

  readonly node: HTMLElement;

  dispose(): void {
    this._manager.changed.disconnect(this._render, this);
    for (const card of this._cards.values()) {
      card.dispose();
    }
    this._cards.clear();
  }

  private _render(): void {
    const tasks = this._manager.tasks;
    for (const [task, card] of [...this._cards]) {
      if (!tasks.includes(task)) {
        card.dispose();
        this._cards.delete(task);
      }
    }
    const nodes: HTMLElement[] = [];
    for (const task of tasks) {
      let card = this._cards.get(task);
      if (!card) {
        card = new PullCard(task, this._manager);
        this._cards.set(task, card);
      }
      nodes.push(card.node);
    }
    this.node.hidden = nodes.length === 0;
    this.node.replaceChildren(
      ...(nodes.length ? [h('h3', { className: 'mz-zenodo-tray-title' }, 'Downloads')] : []),
      ...nodes
    );
  }

  private _cards = new Map<PullTask, PullCard>();
}

const STATE_LABELS: Record<string, string> = {
  pending: 'Waiting',
  running: 'Downloading',
  done: 'Saved',
  skipped: 'Skipped',
  conflict: 'Name clash',
  failed: 'Failed',
  cancelled: 'Cancelled'
};

/**
 * One pull: head (what → where, Cancel / dismiss), overall bar, files, outcome.
 * The head's buttons stay in place while the rest is redrawn.
 */
class PullCard {
  constructor(
    private readonly _task: PullTask,
    private readonly _manager: PullManager
  ) {
    this._cancel = button('Cancel', {
      className: 'mz-zenodo-pull-cancel',
      testid: 'mz-zenodo-pull-cancel',
      onClick: () => {
        this._cancel.disabled = true;
        void this._task.cancel();
      }
    });
    this._dismiss = h(
      'button',
      {
        className: 'mz-zenodo-icon-button mz-zenodo-pull-dismiss',
        testid: 'mz-zenodo-pull-dismiss',
        title: 'Remove from the list',
        attrs: { type: 'button', 'aria-label': 'Remove from the list' },
        onClick: () => this._manager.dismiss(this._task)
      },
      '✕'
    );
    this._body = h('div', { className: 'mz-zenodo-pull-body' });
    this.node = h(
      'div',
      { className: 'mz-zenodo-pull', testid: 'mz-zenodo-pull' },
      h(
        'div',
        { className: 'mz-zenodo-pull-head' },
        h(
          'div',
          { className: 'mz-zenodo-pull-what' },
          h('div', { className: 'mz-zenodo-pull-title', title: _task.record.title }, _task.record.title),
          h(
            'div',
            { className: 'mz-zenodo-pull-dest', testid: 'mz-zenodo-pull-dest' },
            `→ ${_task.displayDestination}`
          )
        ),
        this._cancel,
        this._dismiss
      ),
      this._body
    );
    _task.changed.connect(this._update, this);
    this._update();
  }

  readonly node: HTMLElement;

  dispose(): void {
    this._task.changed.disconnect(this._update, this);
  }

  private _update(): void {
    const task = this._task;
    const items = task.items;
    this.node.dataset.state = task.state;
    this._cancel.hidden = !task.running;
    this._dismiss.hidden = task.running || task.state === 'asking';

    const saved = items.filter(i => i.state === 'done');
    const bytesTotal = items.reduce((s, i) => s + (i.state === 'skipped' ? 0 : i.bytes_total), 0);
    const bytesDone = items.reduce(
      (s, i) => s + (i.state === 'skipped' ? 0 : Math.min(i.bytes_done, i.bytes_total)),
      0
    );
    const finished = items.filter(i => FINAL.has(i.state)).length;
    const overall = h(
      'div',
      { className: 'mz-zenodo-pull-overall' },
      progressBar(task.fraction, 'Overall progress', { testid: 'mz-zenodo-pull-progress' }),
      h(
        'div',
        { className: 'mz-zenodo-pull-counts', testid: 'mz-zenodo-pull-counts' },
        `${finished} of ${items.length} file${items.length === 1 ? '' : 's'} · ` +
          `${humanSize(bytesDone)} of ${humanSize(bytesTotal)}`
      )
    );

    const files = h(
      'ul',
      { className: 'mz-zenodo-pull-files', testid: 'mz-zenodo-pull-files' },
      ...items.map(item => {
        const fraction = item.bytes_total ? item.bytes_done / item.bytes_total : FINAL.has(item.state) ? 1 : 0;
        const renamedTo = item.result?.name && item.result.name !== item.name ? item.result.name : null;
        const note =
          item.state === 'failed' || item.state === 'conflict' || item.state === 'skipped'
            ? item.message
            : renamedTo
              ? `saved as ${renamedTo}`
              : null;
        return h(
          'li',
          {
            className: `mz-zenodo-pull-file mz-mod-${item.state}`,
            testid: 'mz-zenodo-pull-file',
            attrs: { 'data-key': item.name, 'data-state': item.state }
          },
          h(
            'div',
            { className: 'mz-zenodo-pull-file-row' },
            h('span', { className: 'mz-zenodo-pull-file-name', title: item.name }, item.name),
            h('span', { className: 'mz-zenodo-pull-file-state' }, STATE_LABELS[item.state] ?? item.state)
          ),
          item.state === 'running' || item.state === 'pending'
            ? progressBar(fraction, `Progress of ${item.name}`, { className: 'mz-mod-small' })
            : null,
          note &&
            h(
              'div',
              {
                className: `mz-zenodo-pull-file-message${item.state === 'failed' ? ' mz-mod-error' : ''}`,
                testid: 'mz-zenodo-pull-file-message'
              },
              note
            )
        );
      })
    );

    const outcome = this._outcome(saved.length, items.length);
    this._body.replaceChildren(
      ...(task.running || task.state === 'asking' ? [overall] : []),
      ...(outcome ? [outcome] : []),
      files
    );
  }

  private _outcome(saved: number, total: number): HTMLElement | null {
    const task = this._task;
    const where = task.displayDestination;
    const plural = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
    const open = () =>
      button('Open folder', {
        className: 'mz-zenodo-pull-open',
        testid: 'mz-zenodo-pull-open',
        onClick: () => void this._manager.openFolder(task)
      });
    switch (task.state) {
      case 'starting':
      case 'running':
        return null;
      case 'asking':
        return h('div', { className: 'mz-zenodo-pull-summary' }, 'Waiting for your choice about existing files…');
      case 'done': {
        const skipped = task.items.filter(i => i.state === 'skipped').length;
        const text =
          saved === 0
            ? `Nothing new to save in ${where}: ${plural(skipped)} already there.`
            : `Saved ${plural(saved)} to ${where}` + (skipped ? ` (${skipped} skipped).` : '.');
        return h(
          'div',
          { className: 'mz-zenodo-pull-summary mz-mod-success', testid: 'mz-zenodo-pull-summary', attrs: { role: 'status' } },
          h('span', {}, text),
          open()
        );
      }
      case 'cancelled':
        return h(
          'div',
          { className: 'mz-zenodo-pull-summary mz-mod-cancelled', testid: 'mz-zenodo-pull-summary', attrs: { role: 'status' } },
          h(
            'span',
            {},
            saved
              ? `Cancelled. ${plural(saved)} of ${total} had been saved to ${where}; partial files were removed.`
              : `Cancelled. Nothing was saved to ${where}; partial files were removed.`
          )
        );
      case 'failed': {
        const failed = task.items.filter(i => i.state === 'failed').length;
        if (task.failure && !failed) {
          return errorBox(task.failure, { testid: 'mz-zenodo-pull-error', title: 'The download did not start' });
        }
        return h(
          'div',
          { className: 'mz-zenodo-pull-summary mz-mod-error', testid: 'mz-zenodo-pull-summary', attrs: { role: 'alert' } },
          h(
            'span',
            {},
            `${plural(failed)} of ${total} could not be saved` +
              (saved ? `; ${plural(saved)} saved to ${where}.` : '.')
          ),
          ...(saved ? [open()] : [])
        );
      }
    }
  }

  private _cancel: HTMLButtonElement;
  private _dismiss: HTMLButtonElement;
  private _body: HTMLElement;
}

namespace Private {
  export let counter = 0;

  export function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
  }
}
