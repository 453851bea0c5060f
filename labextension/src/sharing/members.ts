import { Dialog, Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { button, h, select } from '../dom';
import { errorBox } from '../feedback';
import { requestAPI } from '../request';
import { IGrantee, SharingAPI } from './api';
import { granteeLabel, roleLabel } from './format';
import { GranteeSearch } from './model';

export type SpaceRole = 'viewer' | 'editor' | 'manager';
export const SPACE_ROLES: readonly SpaceRole[] = ['viewer', 'editor', 'manager'];

export interface IMember {
  name: string;
  display_name: string;
  role: SpaceRole;
}

/**
 * The members of one project space (`/mesh-zenodo/spaces/<id>/members`):
 * list, add or change a role, remove. Every call answers the new list.
 */
export class MembersModel {
  constructor(
    readonly spaceId: string,
    private readonly _settings: ServerConnection.ISettings
  ) {}

  get members(): IMember[] {
    return this._members;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get error(): string | null {
    return this._error;
  }

  async load(): Promise<void> {
    try {
      this._members = (await this._call('GET')).members;
      this._error = null;
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._loaded = true;
  }

  async set(name: string, role: SpaceRole): Promise<void> {
    this._members = (await this._call('POST', '', { name, role })).members;
  }

  async remove(name: string): Promise<void> {
    this._members = (await this._call('DELETE', `/${encodeURIComponent(name)}`)).members;
  }

  private _call(method: string, tail = '', body?: unknown): Promise<{ members: IMember[] }> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    return requestAPI(`spaces/${encodeURIComponent(this.spaceId)}/members${tail}`, this._settings, init);
  }

  private _members: IMember[] = [];
  private _loaded = false;
  private _error: string | null = null;
}

/**
 * The Members dialog of a project (Lab's `Dialog`, one Close button): the
 * members with their roles; a manager also adds users (the Share dialog's
 * search, users only), changes roles and removes members.
 */
export async function openMembersDialog(options: {
  space: { id: string; name: string; role: string };
  settings: ServerConnection.ISettings;
  api: SharingAPI;
  trans: TranslationBundle;
  /** Called after a change (so the Projects tab can reload). */
  changed?: () => void;
}): Promise<void> {
  const { trans } = options;
  const model = new MembersModel(options.space.id, options.settings);
  const search = new GranteeSearch(options.api);
  const body = new MembersBody(model, search, options.space.role === 'manager', trans, options.changed);
  const dialog = new Dialog({
    title: trans.__('Members of “%1”', options.space.name),
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Close') })],
    defaultButton: -1
  });
  dialog.addClass('mz-ShareDialog');
  void model.load().then(() => body.render());
  try {
    await dialog.launch();
  } finally {
    search.dispose();
    dialog.dispose();
  }
}

export class MembersBody extends Widget {
  constructor(
    private readonly _model: MembersModel,
    private readonly _search: GranteeSearch,
    private readonly _manager: boolean,
    private readonly _trans: TranslationBundle,
    private readonly _changed?: () => void
  ) {
    super();
    this.addClass('mz-ShareDialog-body');
    this.addClass('mz-MembersDialog-body');
    this.node.dataset.testid = 'mz-members-dialog';
    const trans = _trans;
    this._list = h('ul', { className: 'mz-ShareDialog-list', testid: 'mz-members-list' });
    this._error = h('div', { className: 'mz-ShareDialog-error', testid: 'mz-members-error' });
    this.node.append(this._list, this._error);
    if (_manager) {
      this._input = h('input', {
        className: 'mz-Form-input',
        testid: 'mz-members-search',
        attrs: {
          type: 'search',
          placeholder: trans.__('Name, username or mail (3+ characters)'),
          'aria-label': trans.__('Search users'),
          autocomplete: 'off'
        }
      });
      this._input.addEventListener('input', () => {
        this._chosen = null;
        this._search.setQuery(this._input!.value);
        this._renderAdd();
      });
      this._results = h('ul', {
        className: 'mz-ShareDialog-results',
        testid: 'mz-members-results',
        attrs: { role: 'listbox' }
      });
      this._role = select(
        SPACE_ROLES.map(r => [r, roleLabel(r, trans)] as const),
        { testid: 'mz-members-role', attrs: { 'aria-label': trans.__('Role') } }
      );
      this._role.value = 'editor';
      this._add = button(trans.__('Add'), {
        primary: true,
        testid: 'mz-members-add',
        disabled: true,
        onClick: () => {
          const chosen = this._chosen;
          if (chosen) {
            void this._act(() => this._model.set(chosen.name, this._role!.value as SpaceRole), () => {
              this._chosen = null;
              this._input!.value = '';
              this._search.setQuery('');
              return trans.__('%1 added', granteeLabel(chosen, trans));
            });
          }
        }
      });
      this.node.append(
        h('div', { className: 'mz-ShareDialog-heading' }, trans.__('Add a member')),
        h('label', { className: 'mz-Form-field' }, trans.__('User'), this._input),
        this._results,
        h(
          'div',
          { className: 'mz-ShareDialog-options' },
          h('label', { className: 'mz-Form-field' }, trans.__('Role'), this._role)
        ),
        h('div', { className: 'mz-Form-actions' }, this._add)
      );
      this._search.changed.connect(this._renderAdd, this);
    }
    this.render();
  }

  render(): void {
    const trans = this._trans;
    const model = this._model;
    if (!model.loaded) {
      this._list.replaceChildren(h('li', { className: 'mz-Empty' }, trans.__('Loading…')));
      return;
    }
    if (model.error) {
      this._list.replaceChildren(
        h('li', {}, errorBox({ title: trans.__('Cannot list the members'), message: model.error }))
      );
      return;
    }
    this._list.replaceChildren(...model.members.map(member => this._row(member)));
    this._renderAdd();
  }

  private _row(member: IMember): HTMLElement {
    const trans = this._trans;
    const label =
      member.display_name && member.display_name !== member.name
        ? `${member.display_name} (${member.name})`
        : member.name;
    const children: (HTMLElement | string)[] = [
      h('span', { className: 'mz-ShareDialog-grantee' }, label)
    ];
    if (this._manager) {
      const role = select(
        SPACE_ROLES.map(r => [r, roleLabel(r, trans)] as const),
        { testid: 'mz-member-role', attrs: { 'aria-label': trans.__('Role') } }
      );
      role.value = member.role;
      role.addEventListener('change', () =>
        void this._act(() => this._model.set(member.name, role.value as SpaceRole), () => trans.__('Role changed'))
      );
      children.push(
        role,
        button(trans.__('Remove'), {
          testid: 'mz-member-remove',
          title: trans.__('Remove %1 from the project', label),
          onClick: () =>
            void this._act(() => this._model.remove(member.name), () => trans.__('%1 removed', label))
        })
      );
    } else {
      children.push(h('span', { className: 'mz-Badge', testid: 'mz-member-role-label' }, roleLabel(member.role, trans)));
    }
    return h(
      'li',
      {
        className: 'mz-ShareDialog-row',
        testid: 'mz-member',
        attrs: { 'data-name': member.name, 'data-role': member.role, title: roleLabel(member.role, trans) }
      },
      ...children
    );
  }

  private _renderAdd(): void {
    if (!this._results || !this._add) {
      return;
    }
    const trans = this._trans;
    const state = this._search.state;
    const items: HTMLElement[] = [];
    if (state.query.trim().length > 0 && state.query.trim().length < 3) {
      items.push(h('li', { className: 'mz-Empty' }, trans.__('Type at least 3 characters.')));
    } else if (state.busy && !state.result) {
      items.push(h('li', { className: 'mz-Empty' }, trans.__('Searching…')));
    } else if (state.error) {
      items.push(h('li', {}, errorBox({ title: trans.__('Cannot search'), message: state.error })));
    } else if (state.result) {
      const members = new Set(this._model.members.map(m => m.name));
      const users = state.result.users.filter(u => !members.has(u.name));
      if (users.length === 0) {
        items.push(h('li', { className: 'mz-Empty' }, trans.__('No user matches.')));
      }
      for (const user of users) {
        const chosen = this._chosen?.name === user.name;
        const item = h(
          'li',
          {
            className: `mz-ShareDialog-result${chosen ? ' mz-mod-selected' : ''}`,
            testid: 'mz-members-result',
            attrs: { role: 'option', tabindex: '0', 'data-name': user.name, 'aria-selected': chosen ? 'true' : 'false' }
          },
          h('span', { className: 'mz-ShareDialog-resultName' }, granteeLabel(user, trans)),
          h('span', { className: 'mz-ShareDialog-resultMail' }, user.mail)
        );
        const choose = () => {
          this._chosen = user;
          this._renderAdd();
        };
        item.addEventListener('click', choose);
        item.addEventListener('keydown', event => {
          if (event.key === ' ' || event.key === 'Enter') {
            event.preventDefault();
            event.stopPropagation();
            choose();
          }
        });
        items.push(item);
      }
    }
    this._results.replaceChildren(...items);
    this._add.disabled = !this._chosen || this._busy;
  }

  private async _act(action: () => Promise<void>, done: () => string): Promise<void> {
    this._error.replaceChildren();
    this._busy = true;
    try {
      await action();
      Notification.success(done(), { autoClose: 3000 });
      this._changed?.();
    } catch (error) {
      this._error.replaceChildren(
        errorBox({ title: this._trans.__('Not changed'), message: (error as Error).message })
      );
    } finally {
      this._busy = false;
      this.render();
    }
  }

  private _list: HTMLElement;
  private _error: HTMLElement;
  private _input: HTMLInputElement | null = null;
  private _results: HTMLElement | null = null;
  private _role: HTMLSelectElement | null = null;
  private _add: HTMLButtonElement | null = null;
  private _chosen: IGrantee | null = null;
  private _busy = false;
}
