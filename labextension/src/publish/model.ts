import { ISignal, Signal } from '@lumino/signaling';

import { IZenodoJobs } from '../tokens';
import { IJob, IJobItem } from '../zenodo/api';
import { IZenodoFailure, toFailure } from '../zenodo/failure';
import {
  fieldErrors,
  IFieldError,
  IInterrupted,
  IPublishRequest,
  IPublishResult,
  PUBLISH_KIND,
  PublishAPI,
  toPublishFailure
} from './api';
import { IFormState } from './form';

export type PublishState = 'running' | 'done' | 'failed' | 'cancelled';

/**
 * One publication job of the server, followed until it ends.
 */
export class PublishTask {
  constructor(
    private readonly _jobs: IZenodoJobs,
    job: IJob,
    /** What the user asked for (unknown for a job started before a reload). */
    readonly request: IPublishRequest | null,
    /** The form as it was sent (to edit it again after a failure). */
    readonly form: IFormState | null
  ) {
    this._job = job;
    this.id = job.id;
  }

  readonly id: string;

  get job(): IJob {
    return this._job;
  }

  /** The folder as Lab shows it, without the leading slash. */
  get path(): string {
    return this.request?.path ?? (this._job.source as { path?: string } | null)?.path ?? '';
  }

  get displayPath(): string {
    return `/${this.path}`;
  }

  /** The record's title. */
  get title(): string {
    const title = this.request?.metadata.title;
    if (typeof title === 'string' && title) {
      return title;
    }
    const arrow = this._job.title.indexOf(' → ');
    return arrow >= 0 ? this._job.title.slice(arrow + 3) : this._job.title;
  }

  /** Whether the record is published at the end (else a draft is left). */
  get publishes(): boolean {
    if (this.request) {
      return this.request.publish;
    }
    return !!(this._job.destination as { publish?: boolean } | null)?.publish;
  }

  get baseUrl(): string {
    return (this._job.destination as { base_url?: string } | null)?.base_url ?? '';
  }

  get state(): PublishState {
    if (this._failure) {
      return 'failed';
    }
    return this._job.state;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  get items(): IJobItem[] {
    return this._job.items;
  }

  get result(): IPublishResult | null {
    return (this._job.result as IPublishResult | null) ?? null;
  }

  /** Why it failed: the job's error, or why it could not be followed. */
  get failure(): IZenodoFailure | null {
    if (this._failure) {
      return this._failure;
    }
    const error = this._job.error;
    return error
      ? { message: error.message, reason: error.reason, status: 0, retryAfter: null }
      : null;
  }

  /** The job's field errors (Zenodo refused the metadata), for the form. */
  get fieldErrors(): IFieldError[] {
    return fieldErrors((this._job.error as { errors?: unknown } | null)?.errors);
  }

  /** Overall progress in [0, 1], by bytes. */
  get fraction(): number {
    if (this._job.state === 'done') {
      return 1;
    }
    const items = this.items;
    const total = items.reduce((sum, i) => sum + i.bytes_total, 0);
    if (total > 0) {
      return items.reduce((sum, i) => sum + Math.min(i.bytes_done, i.bytes_total), 0) / total;
    }
    return this._job.progress?.fraction ?? 0;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Resolves when the job has ended (however it ended). */
  get ended(): Promise<void> {
    return this._ended;
  }

  /**
   * Follow the job until it ends.
   */
  follow(): Promise<void> {
    if (!this._following) {
      this._following = this._follow();
      this._ended = this._following;
    }
    return this._following;
  }

  /**
   * Ask the server to stop the publication (the draft stays on Zenodo; a new
   * run goes on with it).
   */
  async cancel(): Promise<void> {
    try {
      this._update(await this._jobs.cancel(this.id));
    } catch (error) {
      this._failure = toFailure(error);
      this._changed.emit();
    }
  }

  private async _follow(): Promise<void> {
    if (this._job.state !== 'running') {
      return;
    }
    const watch = this._jobs.follow(this._job);
    const onChange = (sender: unknown, job: IJob) => this._update(job);
    watch.changed.connect(onChange);
    try {
      this._update(await watch.ended);
    } catch (error) {
      this._failure = toFailure(error);
      this._changed.emit();
    } finally {
      watch.changed.disconnect(onChange);
    }
  }

  private _update(job: IJob): void {
    this._job = job;
    this._changed.emit();
  }

  private _job: IJob;
  private _failure: IZenodoFailure | null = null;
  private _following: Promise<void> | null = null;
  private _ended: Promise<void> = Promise.resolve();
  private _changed = new Signal<this, void>(this);
}

/**
 * The publications of this server: those started from this page, those the
 * server lists (after a reload), and the interrupted ones (to resume).
 */
export class PublishManager {
  constructor(
    readonly api: PublishAPI,
    private readonly _jobs: IZenodoJobs
  ) {}

  get tasks(): ReadonlyArray<PublishTask> {
    return this._tasks;
  }

  get interrupted(): ReadonlyArray<IInterrupted> {
    return this._interrupted;
  }

  /** Why the list of publications could not be read, else null. */
  get listFailure(): IZenodoFailure | null {
    return this._listFailure;
  }

  /** Emitted when a task is added or removed, or the lists change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with each task added (the plugin notifies about it). */
  get added(): ISignal<this, PublishTask> {
    return this._added;
  }

  /**
   * Start a publication; rejects with an `IPublishFailure`.
   */
  async start(request: IPublishRequest, form: IFormState | null): Promise<PublishTask> {
    const { job } = await this.api.start(request);
    this._forms.delete(request.path);
    return this._add(new PublishTask(this._jobs, job, request, form));
  }

  /**
   * Go on with a publication a restart interrupted.
   */
  async resume(id: string): Promise<PublishTask> {
    let job: IJob;
    try {
      ({ job } = await this.api.resume(id));
    } catch (error) {
      throw toPublishFailure(error);
    } finally {
      this._interrupted = this._interrupted.filter(i => i.id !== id);
      this._changed.emit();
    }
    return this._add(new PublishTask(this._jobs, job, null, null));
  }

  /**
   * Read the server's publications (running ones are followed).
   */
  async refresh(): Promise<void> {
    let answer: { jobs: IJob[]; interrupted: IInterrupted[] };
    try {
      answer = await this.api.list();
      this._listFailure = null;
    } catch (error) {
      this._listFailure = toFailure(error);
      this._changed.emit();
      return;
    }
    this._interrupted = answer.interrupted;
    const known = new Set(this._tasks.map(t => t.id));
    // oldest first, so that the newest ends up on top
    for (const job of answer.jobs.filter(j => j.kind === PUBLISH_KIND).reverse()) {
      if (!known.has(job.id) && !this._dismissed.has(job.id)) {
        this._add(new PublishTask(this._jobs, job, null, null), false);
      }
    }
    this._changed.emit();
  }

  /** The running publication of `path`, if any. */
  runningFor(path: string): PublishTask | null {
    return this._tasks.find(t => t.running && t.path === path) ?? null;
  }

  /** Remove a finished publication from the list. */
  dismiss(task: PublishTask): void {
    if (task.running) {
      return;
    }
    this._dismissed.add(task.id);
    this._tasks = this._tasks.filter(t => t !== task);
    this._changed.emit();
  }

  /** The form of `path` as the user left it (to open it again with it). */
  formOf(path: string): IFormState | null {
    return this._forms.get(path) ?? null;
  }

  /** Keep the form of `path` (closed to sign in first, for example). */
  keepForm(path: string, form: IFormState | null): void {
    if (form) {
      this._forms.set(path, form);
    } else {
      this._forms.delete(path);
    }
  }

  private _add(task: PublishTask, announce = true): PublishTask {
    this._tasks.unshift(task);
    void task.follow();
    this._changed.emit();
    if (announce) {
      this._added.emit(task);
    }
    return task;
  }

  private _tasks: PublishTask[] = [];
  private _interrupted: IInterrupted[] = [];
  private _listFailure: IZenodoFailure | null = null;
  private _dismissed = new Set<string>();
  private _forms = new Map<string, IFormState>();
  private _changed = new Signal<this, void>(this);
  private _added = new Signal<this, PublishTask>(this);
}
