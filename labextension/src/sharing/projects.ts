import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { button, h } from '../dom';
import { errorBox } from '../feedback';
import { requestAPI } from '../request';
import { Role } from './api';
import { formatSize, roleLabel } from './format';
import { IPublishAction, publishButton } from './view';

export interface ISpace {
  id: string;
  name: string;
  role: Role;
  api_path: string | null;
  quota: { used: number; total: number };
}

/**
 * The user's project spaces (`/mesh-zenodo/spaces`): list and create.
 */
export class ProjectsModel {
  constructor(private readonly _settings: ServerConnection.ISettings) {}

  get spaces(): ISpace[] {
    return this._spaces;
  }

  get error(): string | null {
    return this._error;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async refresh(): Promise<void> {
    try {
      const answer = await requestAPI<{ spaces: ISpace[] }>('spaces', this._settings);
      this._spaces = answer.spaces;
      this._error = null;
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._loaded = true;
    this._changed.emit();
  }

  async create(name: string): Promise<ISpace> {
    try {
      return (
        await requestAPI<{ space: ISpace }>('spaces', this._settings, {
          method: 'POST',
          body: JSON.stringify({ name }),
          headers: { 'Content-Type': 'application/json' }
        })
      ).space;
    } finally {
      await this.refresh();
    }
  }

  private _spaces: ISpace[] = [];
  private _error: string | null = null;
  private _loaded = false;
  private _changed = new Signal<this, void>(this);
}

/**
 * The Projects tab: each project with the user's role and its quota, Open
 * (in Lab's file browser), and a form to create one.
 */
export class ProjectsView extends Widget {
  constructor(
    private readonly _model: ProjectsModel,
    private readonly _trans: TranslationBundle,
    private readonly _open: (path: string) => void,
    private readonly _members?: (space: ISpace) => void,
    private readonly _publish?: IPublishAction
  ) {
    super();
    this.addClass('mz-SharesView');
    this.node.dataset.testid = 'mz-projects';
    const trans = _trans;
    this._list = h('ul', { className: 'mz-SharesView-list', testid: 'mz-projects-list' });
    const name = h('input', {
      className: 'mz-Form-input',
      testid: 'mz-project-name',
      attrs: { type: 'text', placeholder: trans.__('New project name'), 'aria-label': trans.__('New project name') }
    });
    const error = h('div', { className: 'mz-ShareDialog-error' });
    const create = button(trans.__('Create project'), {
      primary: true,
      testid: 'mz-project-create',
      onClick: async () => {
        error.replaceChildren();
        if (!name.value.trim()) {
          return;
        }
        create.disabled = true;
        try {
          const space = await _model.create(name.value.trim());
          name.value = '';
          Notification.success(trans.__('Project “%1” created', space.name), { autoClose: 3000 });
        } catch (reason) {
          error.replaceChildren(
            errorBox({ title: trans.__('No project created'), message: (reason as Error).message })
          );
        } finally {
          create.disabled = false;
        }
      }
    });
    this.node.append(
      h(
        'div',
        { className: 'mz-SharesView-section' },
        h('h3', { className: 'mz-SharesView-title' }, trans.__('My projects')),
        this._list
      ),
      h(
        'div',
        { className: 'mz-SharesView-section' },
        h('label', { className: 'mz-Form-field' }, trans.__('New project'), name),
        error,
        h('div', { className: 'mz-Form-actions' }, create)
      )
    );
    _model.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (!this.isDisposed) {
      this._model.changed.disconnect(this._render, this);
    }
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this._model.refresh();
  }

  private _render(): void {
    const trans = this._trans;
    const model = this._model;
    if (model.error) {
      this._list.replaceChildren(
        h('li', {}, errorBox({ title: trans.__('Cannot list your projects'), message: model.error }))
      );
      return;
    }
    if (!model.loaded) {
      this._list.replaceChildren(h('li', { className: 'mz-Empty' }, trans.__('Loading…')));
      return;
    }
    if (model.spaces.length === 0) {
      this._list.replaceChildren(h('li', { className: 'mz-Empty' }, trans.__('You are in no project.')));
      return;
    }
    this._list.replaceChildren(
      ...model.spaces.map(space => {
        const quota = space.quota?.total
          ? trans.__('%1 of %2 used', formatSize(space.quota.used), formatSize(space.quota.total))
          : trans.__('%1 used', formatSize(space.quota?.used ?? 0));
        const path = space.api_path;
        return h(
          'li',
          { className: 'mz-SharesView-item', testid: 'mz-project', attrs: { 'data-name': space.name } },
          h('div', { className: 'mz-SharesView-line' }, h('span', { className: 'mz-SharesView-name' }, space.name)),
          h('div', { className: 'mz-SharesView-meta' }, `${roleLabel(space.role, trans)} · ${quota}`),
          h(
            'div',
            { className: 'mz-SharesView-actions' },
            button(trans.__('Open'), {
              testid: 'mz-project-open',
              disabled: !path,
              onClick: () => path && this._open(path)
            }),
            this._members &&
              button(space.role === 'manager' ? trans.__('Members…') : trans.__('Members'), {
                testid: 'mz-project-members',
                title:
                  space.role === 'manager'
                    ? trans.__('Add, change and remove members')
                    : trans.__('Who is in this project'),
                onClick: () => this._members?.(space)
              }),
            space.role === 'editor' || space.role === 'manager'
              ? publishButton(this._publish, path, trans, 'mz-project-publish')
              : null
          )
        );
      })
    );
  }

  private _list: HTMLElement;
}
