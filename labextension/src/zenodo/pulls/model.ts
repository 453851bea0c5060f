import { JupyterFrontEnd } from '@jupyterlab/application';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { LabCommandIDs } from '../../commands';
import { IZenodoJobs } from '../../tokens';
import { IJob, IJobItem, OnConflict, ZenodoAPI } from '../api';
import { IZenodoFailure, toFailure } from '../failure';

/** The server's kind of a pull job. */
export const PULL_KIND = 'pull';

export type PullState =
  | 'starting'
  | 'running'
  | 'asking'
  | 'done'
  | 'failed'
  | 'cancelled';

/** Item states after which an item no longer changes within a job. */
export const FINAL_ITEM_STATES: ReadonlySet<string> = new Set([
  'done',
  'skipped',
  'conflict',
  'failed',
  'cancelled'
]);

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

/**
 * Asks the user what to do about files that exist already.
 */
export type ConflictResolver = (task: PullTask, names: string[]) => Promise<OnConflict>;

/**
 * One "Download to…" of the user: one or more server jobs (a second one
 * when name clashes are resolved by renaming or replacing).
 */
export class PullTask {
  constructor(
    private readonly _api: ZenodoAPI,
    private readonly _jobs: IZenodoJobs,
    private readonly _trans: TranslationBundle,
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
    return items.length
      ? items.filter(i => FINAL_ITEM_STATES.has(i.state)).length / items.length
      : 0;
  }

  /**
   * Go on with a pull job already on the server (started before the page was
   * reloaded) instead of starting one.
   */
  resume(job: IJob): void {
    this._resume = job;
  }

  /**
   * Start the pull; resolves when it has ended (however it ended).
   */
  async run(onConflict: ConflictResolver): Promise<void> {
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
            message: this._trans.__('%1 already exists; left as it is', item.name)
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
      this._merge(await this._jobs.cancel(id));
    } catch (error) {
      this._failure = toFailure(error, this._trans);
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
      job = resumed
        ? resumed
        : (
            await this._api.startPull({
              record_id: this.record.id,
              keys,
              destination: this.destination,
              on_conflict: onConflict,
              base_url: this.record.base_url
            })
          ).job;
    } catch (error) {
      this._failure = toFailure(error, this._trans);
      this._setState('failed');
      return false;
    }
    this._jobId = job.id;
    this._merge(job);
    this._setState('running');
    if (this._cancelRequested) {
      try {
        job = await this._jobs.cancel(job.id);
        this._merge(job);
      } catch {
        // following the job reports what happened
      }
    }
    const watch = this._jobs.follow(job);
    const onProgress = (sender: unknown, progress: IJob) => {
      this._merge(progress);
      this._changed.emit();
    };
    watch.changed.connect(onProgress);
    try {
      job = await watch.ended;
    } catch (error) {
      this._failure = toFailure(error, this._trans);
      this._setState('failed');
      return false;
    } finally {
      watch.changed.disconnect(onProgress);
    }
    this._merge(job);
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
 * The pulls of this page (and those still running after a reload): starts
 * them and keeps the list the downloads tray shows.
 */
export class PullManager {
  constructor(options: PullManager.IOptions) {
    this._app = options.app;
    this._api = options.api;
    this._jobs = options.jobs;
    this._trans = options.trans;
    this._onConflict = options.onConflict;
  }

  get tasks(): ReadonlyArray<PullTask> {
    return this._tasks;
  }

  /** Emitted when a task is added or removed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The folder of the last pull, offered for the next one. */
  get lastDestination(): string | undefined {
    return this._lastDestination;
  }

  /**
   * Pull `keys` (all files when null) into `destination` (a folder path as
   * Lab shows it).
   */
  pull(record: IPullSource, keys: string[] | null, destination: string): PullTask {
    const folder = destination.replace(/^\/+|\/+$/g, '');
    this._lastDestination = folder;
    const task = new PullTask(this._api, this._jobs, this._trans, record, keys, folder);
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
      jobs = await this._jobs.list(PULL_KIND);
    } catch {
      return; // nothing to show; a new pull will report what is wrong
    }
    for (const job of jobs.filter(j => j.state === 'running').reverse()) {
      this._add(Private.taskOfJob(this._api, this._jobs, this._trans, job));
    }
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
    return this._app.commands.execute(LabCommandIDs.goToPath, { path: task.destination });
  }

  private _add(task: PullTask): void {
    this._tasks.unshift(task);
    this._changed.emit();
    void task.run(this._onConflict).then(() => {
      if (task.state === 'done' || task.state === 'failed' || task.state === 'cancelled') {
        void this._refreshBrowsers(task.destination);
      }
    });
  }

  private async _refreshBrowsers(path: string): Promise<void> {
    // Lab's browsers poll; this makes the new files show up now
    try {
      await this._app.serviceManager.contents.get(path, { content: false });
    } catch {
      // not important
    }
  }

  private _app: JupyterFrontEnd;
  private _api: ZenodoAPI;
  private _jobs: IZenodoJobs;
  private _trans: TranslationBundle;
  private _onConflict: ConflictResolver;
  private _tasks: PullTask[] = [];
  private _restored = false;
  private _lastDestination: string | undefined;
  private _changed = new Signal<this, void>(this);
}

export namespace PullManager {
  export interface IOptions {
    app: JupyterFrontEnd;
    api: ZenodoAPI;
    jobs: IZenodoJobs;
    trans: TranslationBundle;
    /** Asks the user about name clashes (a dialog, see `dialogs.ts`). */
    onConflict: ConflictResolver;
  }
}

namespace Private {
  export let counter = 0;

  /**
   * A task for a pull job that is already on the server.
   */
  export function taskOfJob(
    api: ZenodoAPI,
    jobs: IZenodoJobs,
    trans: TranslationBundle,
    job: IJob
  ): PullTask {
    const destination = job.destination?.path ?? job.result?.destination ?? '';
    const source: IPullSource = {
      id: job.source?.record_id ?? job.result?.record_id ?? '',
      title: job.source?.title || job.title,
      files: job.items.map(item => ({ key: item.id, size: item.bytes_total }))
    };
    const task = new PullTask(api, jobs, trans, source, job.items.map(i => i.id), destination);
    task.resume(job);
    return task;
  }
}
