import { PromiseDelegate } from '@lumino/coreutils';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IJobSettings, PluginSettings } from '../settings';
import { IJobWatch, IZenodoJobs } from '../tokens';
import { IJob, ZenodoAPI } from './api';
import { IZenodoFailure, toFailure } from './failure';

/**
 * Consecutive failed progress requests after which a job is given up on
 * (a 404, the server forgot the job, gives up at once).
 */
const MAX_MISSES = 10;

/**
 * The `IZenodoJobs` of the plugin, over `/mesh-zenodo/jobs`.
 */
export class ZenodoJobs implements IZenodoJobs {
  constructor(
    private readonly _api: ZenodoAPI,
    private readonly _settings: PluginSettings<IJobSettings>
  ) {
    _settings.changed.connect(this._onSettingsChanged, this);
  }

  async list(kind?: string): Promise<IJob[]> {
    const { jobs } = await this._api.jobs(kind);
    return jobs;
  }

  follow(job: IJob): IJobWatch {
    const known = this._watches.get(job.id);
    if (known && !known.isDisposed) {
      known.report(job);
      return known;
    }
    const watch = new JobWatch(this._api, job, this._settings.composite.pollInterval);
    this._watches.set(job.id, watch);
    void watch.ended
      .catch(() => undefined)
      .then(() => {
        if (this._watches.get(job.id) === watch) {
          this._watches.delete(job.id);
        }
        watch.dispose();
      });
    return watch;
  }

  async cancel(id: string): Promise<IJob> {
    const { job } = await this._api.cancelJob(id);
    this._watches.get(id)?.report(job);
    return job;
  }

  private _onSettingsChanged(): void {
    for (const watch of this._watches.values()) {
      watch.interval = this._settings.composite.pollInterval;
    }
  }

  private _watches = new Map<string, JobWatch>();
}

/**
 * One job followed with a Lumino `Poll`: a request every `interval` ms while
 * the job runs, backing off while requests fail, standing by while the page
 * is hidden.
 */
export class JobWatch implements IJobWatch {
  constructor(
    private readonly _api: ZenodoAPI,
    job: IJob,
    interval: number
  ) {
    this.id = job.id;
    this._job = job;
    // `ended` may never be awaited (a watch disposed on purpose)
    this._ended.promise.catch(() => undefined);
    this._poll = new Poll<IJob, IZenodoFailure, 'standby'>({
      name: `mesh-zenodo:job-${job.id}`,
      factory: () => this._tick(),
      frequency: { interval, backoff: 2, max: 30 * 1000 },
      standby: 'when-hidden',
      auto: job.state === 'running'
    });
    if (job.state !== 'running') {
      this._end(job, null);
    }
  }

  readonly id: string;

  get job(): IJob {
    return this._job;
  }

  get changed(): ISignal<this, IJob> {
    return this._changed;
  }

  get ended(): Promise<IJob> {
    return this._ended.promise;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Milliseconds between two requests while the job runs.
   */
  set interval(interval: number) {
    if (!this._poll.isDisposed && this._poll.frequency.interval !== interval) {
      this._poll.frequency = { ...this._poll.frequency, interval };
    }
  }

  /**
   * A state of the job learnt otherwise (e.g. the answer of a cancel request).
   */
  report(job: IJob): void {
    if (this._done || job.id !== this.id) {
      return;
    }
    this._update(job);
    if (job.state !== 'running') {
      this._end(job, null);
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poll.dispose();
    if (!this._done) {
      this._done = true;
      this._ended.reject({
        message: 'The job is no longer followed.',
        reason: 'Disposed',
        status: 0,
        retryAfter: null
      } as IZenodoFailure);
    }
    Signal.clearData(this);
  }

  private async _tick(): Promise<IJob> {
    let job: IJob;
    try {
      ({ job } = await this._api.job(this.id));
    } catch (error) {
      const failure = toFailure(error);
      if (failure.status === 404 || ++this._misses >= MAX_MISSES) {
        this._end(null, failure);
        return this._job;
      }
      throw failure; // the poll backs off, then asks again
    }
    this._misses = 0;
    this.report(job);
    return job;
  }

  private _update(job: IJob): void {
    this._job = job;
    this._changed.emit(job);
  }

  private _end(job: IJob | null, failure: IZenodoFailure | null): void {
    if (this._done) {
      return;
    }
    this._done = true;
    this._poll.dispose();
    if (job) {
      this._ended.resolve(job);
    } else {
      this._ended.reject(failure);
    }
  }

  private _job: IJob;
  private _misses = 0;
  private _done = false;
  private _isDisposed = false;
  private _poll: Poll<IJob, IZenodoFailure, 'standby'>;
  private _ended = new PromiseDelegate<IJob>();
  private _changed = new Signal<this, IJob>(this);
}
