import { Clipboard, Dialog, Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { Contents } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { button, externalLink, h, isWebUrl, select } from '../dom';
import { errorBox } from '../feedback';
import { ICS3Session } from '../tokens';
import { IGrantee, ILink, IShare, LINK_TYPES, LinkType, mountPath, Role, ROLES, SharingAPI } from './api';
import {
  dateInputValue,
  endOfDay,
  formatDate,
  formatSize,
  granteeLabel,
  linkTypeLabel,
  roleLabel,
  tomorrow
} from './format';
import { ResourceModel, SharesModel } from './model';

type PageId = 'info' | 'shares' | 'sharewith' | 'links';

/**
 * What the Share dialog needs.
 */
export interface IShareDialogOptions {
  path: string;
  api: SharingAPI;
  contents: Contents.IManager;
  shares: SharesModel;
  session: ICS3Session;
  trans: TranslationBundle;
  /** The tab to show first. */
  page?: PageId;
  /**
   * Where a folder was published on Zenodo (asked once, when the dialog is
   * open on a folder); absent when publishing is not there.
   */
  zenodoPublication?: (path: string) => Promise<IZenodoPublication | null>;
}

/**
 * A folder's publication on Zenodo, as the INFO tab shows it.
 */
export interface IZenodoPublication {
  doi: string | null;
  version: string | null;
  url: string | null;
  state: 'draft' | 'published';
}

/**
 * Open the Share dialog of `path` (Lab's `Dialog`, one Close button).
 */
export async function openShareDialog(options: IShareDialogOptions): Promise<void> {
  const { trans } = options;
  const model = new ResourceModel(options);
  const body = new ShareDialogBody(model, options);
  const name = PathExt.basename(options.path) || options.path;
  const dialog = new Dialog({
    title: trans.__('Share “%1”', name),
    body,
    buttons: [Dialog.cancelButton({ label: trans.__('Close') })],
    // Enter in the search box or the date fields must not close the dialog
    defaultButton: -1
  });
  dialog.addClass('mz-ShareDialog');
  void model.load();
  try {
    await dialog.launch();
  } finally {
    model.dispose();
    dialog.dispose();
  }
}

/**
 * The body of the Share dialog: tabs INFO, SHARES, SHARE WITH and, when the
 * server has public links, LINKS. Plain DOM through `dom.ts`; forms are built
 * once (so that typing is never interrupted), lists are redrawn on `changed`.
 */
export class ShareDialogBody extends Widget {
  constructor(model: ResourceModel, options: IShareDialogOptions) {
    super();
    this.addClass('mz-ShareDialog-body');
    this.node.dataset.testid = 'mz-share-dialog';
    this._model = model;
    this._options = options;
    this._trans = options.trans;
    const trans = this._trans;

    const pages: [PageId, string][] = [
      ['info', trans.__('Info')],
      ['shares', trans.__('Shares')],
      ['sharewith', trans.__('Share with')],
      ['links', trans.__('Links')]
    ];
    this._tabBar = h('div', { className: 'mz-ShareDialog-tabs', attrs: { role: 'tablist' } });
    for (const [id, label] of pages) {
      const tab = h(
        'button',
        {
          className: 'mz-ShareDialog-tab',
          testid: `mz-share-tab-${id}`,
          attrs: { role: 'tab', type: 'button' },
          onClick: () => this._select(id)
        },
        label
      );
      this._tabs.set(id, tab);
      this._tabBar.append(tab);
    }
    this._pages = {
      info: h('div', { className: 'mz-ShareDialog-page', testid: 'mz-share-info' }),
      shares: h('div', { className: 'mz-ShareDialog-page', testid: 'mz-share-shares' }),
      sharewith: this._buildShareWith(),
      links: this._buildLinks()
    };
    this.node.append(this._tabBar, ...Object.values(this._pages));
    model.changed.connect(this._render, this);
    this._render();
    this._select(options.page ?? 'sharewith');
  }

  private _select(id: PageId): void {
    this._current = id;
    for (const [pageId, tab] of this._tabs) {
      const on = pageId === id;
      tab.classList.toggle('mz-mod-current', on);
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      this._pages[pageId].hidden = !on;
    }
    if (id === 'sharewith') {
      requestAnimationFrame(() => this._searchInput.focus());
    }
  }

  private _render(): void {
    this._askZenodo();
    // LINKS only when the server has public links
    const hasLinks = this._model.links !== null;
    this._tabs.get('links')!.hidden = !hasLinks;
    if (!hasLinks && this._current === 'links') {
      this._select('shares');
    }
    this._renderInfo();
    this._renderShares();
    this._renderResults();
    this._renderLinks();
  }

  // ---- INFO -----------------------------------------------------------------

  /** Once the path is known to be a folder: where it was published on Zenodo. */
  private _askZenodo(): void {
    const ask = this._options.zenodoPublication;
    if (!ask || this._zenodoAsked || this._model.info?.type !== 'directory') {
      return;
    }
    this._zenodoAsked = true;
    void ask(this._model.path)
      .then(publication => {
        this._zenodo = publication;
        if (publication && !this.isDisposed) {
          this._renderInfo();
        }
      })
      .catch(() => undefined); // not important here
  }

  /** The "Zenodo" line of INFO: DOI (version), record link. */
  private _zenodoFacts(): HTMLElement[] {
    const publication = this._zenodo;
    if (!publication) {
      return [];
    }
    const trans = this._trans;
    const what = publication.doi || publication.url || '—';
    const details = [
      publication.version ? trans.__('version %1', publication.version) : '',
      publication.state === 'draft' ? trans.__('draft') : ''
    ].filter(Boolean);
    return [
      h('dt', {}, trans.__('Zenodo')),
      h(
        'dd',
        { testid: 'mz-share-info-zenodo' },
        what,
        details.length ? ` (${details.join(', ')})` : '',
        publication.url && isWebUrl(publication.url) ? ' · ' : '',
        publication.url && isWebUrl(publication.url)
          ? externalLink(publication.url, trans.__('record'), { testid: 'mz-share-info-zenodo-link' })
          : ''
      )
    ];
  }

  private _renderInfo(): void {
    const trans = this._trans;
    const model = this._model;
    const info = model.info;
    const received = this._receivedShare();
    const owner = received
      ? granteeLabel(received.owner, trans)
      : this._options.session.session?.user.display_name ??
        this._options.session.session?.user.username ??
        '—';
    const etag =
      model.shares.items[0]?.resource.etag ?? received?.resource.etag ?? '';
    const version = etag.replace(/^W\//, '').replace(/"/g, '') || '—';
    const rows: [string, string, string][] = [
      ['owner', trans.__('Owner'), owner],
      ['type', trans.__('Type'), info?.type === 'directory' ? trans.__('Folder') : trans.__('File')],
      ['size', trans.__('Size'), info?.type === 'directory' ? '—' : formatSize(info?.size)],
      [
        'modified',
        trans.__('Modified'),
        info?.last_modified ? new Date(info.last_modified).toLocaleString() : '—'
      ],
      ['version', trans.__('Version'), version],
      ['path', trans.__('Path'), model.path]
    ];
    const access = model.shares.items.map(share =>
      h(
        'li',
        { className: 'mz-ShareDialog-access' },
        `${granteeLabel(share.grantee, trans)}: ${roleLabel(share.role, trans)}`
      )
    );
    this._pages.info.replaceChildren(
      h(
        'dl',
        { className: 'mz-ShareDialog-facts' },
        ...([] as HTMLElement[]).concat(
          ...rows.map(([id, label, value]) => [
            h('dt', {}, label),
            h('dd', { testid: `mz-share-info-${id}` }, value)
          ]),
          this._zenodoFacts()
        )
      ),
      h('div', { className: 'mz-ShareDialog-heading' }, trans.__('Who has access')),
      h(
        'ul',
        { className: 'mz-ShareDialog-accessList', testid: 'mz-share-info-access' },
        h('li', { className: 'mz-ShareDialog-access' }, `${owner}: ${trans.__('Owner')}`),
        ...access
      )
    );
  }

  /** The received share this path lies in, when it is someone else's. */
  private _receivedShare() {
    const path = this._model.path;
    return this._options.shares.received.items.find(share => {
      const root = mountPath(share);
      return share.state === 'accepted' && (path === root || path.startsWith(`${root}/`));
    });
  }

  // ---- SHARES ---------------------------------------------------------------

  private _renderShares(): void {
    const trans = this._trans;
    const state = this._model.shares;
    const page = this._pages.shares;
    if (!state.loaded) {
      page.replaceChildren(h('div', { className: 'mz-Empty' }, trans.__('Loading…')));
      return;
    }
    if (state.error) {
      page.replaceChildren(
        errorBox({ title: trans.__('Cannot list the shares'), message: state.error })
      );
      return;
    }
    if (state.items.length === 0) {
      page.replaceChildren(
        h(
          'div',
          { className: 'mz-Empty', testid: 'mz-share-none' },
          trans.__('Not shared with anyone yet: use Share with.')
        )
      );
      return;
    }
    page.replaceChildren(
      this._shareError,
      h(
        'ul',
        { className: 'mz-ShareDialog-list' },
        ...state.items.map(share => this._shareRow(share))
      )
    );
  }

  private _shareRow(share: IShare): HTMLElement {
    const trans = this._trans;
    const roles = this._roles(share.resource.type === 'directory');
    const role = select(
      roles.map(r => [r, roleLabel(r, trans)] as const),
      { testid: 'mz-share-row-role', attrs: { 'aria-label': trans.__('Role') } }
    );
    role.value = share.role;
    role.addEventListener('change', () =>
      this._act(() => this._model.update(share.id, { role: role.value as Role }), trans.__('Role changed'))
    );
    const expiry = h('input', {
      className: 'mz-Form-input mz-ShareDialog-date',
      testid: 'mz-share-row-expiry',
      attrs: { type: 'date', min: tomorrow(), 'aria-label': trans.__('Expires') }
    });
    expiry.value = dateInputValue(share.expiration);
    expiry.addEventListener('change', () =>
      this._act(
        () => this._model.update(share.id, { expiration: endOfDay(expiry.value) }),
        expiry.value ? trans.__('Expiry set') : trans.__('Expiry removed')
      )
    );
    return h(
      'li',
      {
        className: 'mz-ShareDialog-row',
        testid: 'mz-share-row',
        attrs: { 'data-grantee': share.grantee.name }
      },
      h(
        'span',
        { className: 'mz-ShareDialog-grantee', title: share.grantee.mail || undefined },
        granteeLabel(share.grantee, trans)
      ),
      role,
      h('label', { className: 'mz-ShareDialog-expiry' }, trans.__('Expires'), expiry),
      button(trans.__('Remove'), {
        testid: 'mz-share-row-remove',
        title: trans.__('Stop sharing with %1', granteeLabel(share.grantee, trans)),
        onClick: () => this._act(() => this._model.remove(share.id), trans.__('Share removed'))
      })
    );
  }

  private _roles(isDirectory: boolean): Role[] {
    return ROLES.filter(r => isDirectory || r !== 'uploader');
  }

  private async _act(action: () => Promise<unknown>, done: string): Promise<void> {
    this._shareError.replaceChildren();
    try {
      await action();
      Notification.success(done, { autoClose: 3000 });
    } catch (error) {
      this._shareError.replaceChildren(
        errorBox({ title: this._trans.__('Not changed'), message: (error as Error).message })
      );
    }
  }

  // ---- SHARE WITH -----------------------------------------------------------

  private _buildShareWith(): HTMLElement {
    const trans = this._trans;
    this._searchInput = h('input', {
      className: 'mz-Form-input',
      testid: 'mz-share-search',
      attrs: {
        type: 'search',
        placeholder: trans.__('Name, username or mail (3+ characters)'),
        'aria-label': trans.__('Search users and groups'),
        autocomplete: 'off'
      }
    });
    this._searchInput.addEventListener('input', () => {
      this._chosen = null;
      this._model.setQuery(this._searchInput.value);
      this._updateSubmit();
    });
    this._results = h('ul', {
      className: 'mz-ShareDialog-results',
      testid: 'mz-share-results',
      attrs: { role: 'listbox' }
    });
    this._roleSelect = select(
      this._roles(true).map(r => [r, roleLabel(r, trans)] as const),
      { testid: 'mz-share-role', attrs: { 'aria-label': trans.__('Role') } }
    );
    this._expiryInput = h('input', {
      className: 'mz-Form-input mz-ShareDialog-date',
      testid: 'mz-share-expiry',
      attrs: { type: 'date', min: tomorrow(), 'aria-label': trans.__('Expires (optional)') }
    });
    this._submit = button(trans.__('Share'), {
      primary: true,
      testid: 'mz-share-submit',
      disabled: true,
      onClick: () => void this._shareNow()
    });
    this._chosenLabel = h('div', { className: 'mz-ShareDialog-chosen', testid: 'mz-share-chosen' });
    this._shareWithError = h('div', { className: 'mz-ShareDialog-error' });
    return h(
      'div',
      { className: 'mz-ShareDialog-page', testid: 'mz-share-sharewith' },
      h('label', { className: 'mz-Form-field' }, trans.__('User or group'), this._searchInput),
      this._results,
      this._chosenLabel,
      h(
        'div',
        { className: 'mz-ShareDialog-options' },
        h('label', { className: 'mz-Form-field' }, trans.__('Role'), this._roleSelect),
        h('label', { className: 'mz-Form-field' }, trans.__('Expires (optional)'), this._expiryInput)
      ),
      this._shareWithError,
      h('div', { className: 'mz-Form-actions' }, this._submit)
    );
  }

  private _renderResults(): void {
    const trans = this._trans;
    // uploader only on folders
    const isDirectory = this._model.info ? this._model.info.type === 'directory' : true;
    for (const option of Array.from(this._roleSelect.options)) {
      option.disabled = option.value === 'uploader' && !isDirectory;
    }
    const search = this._model.search;
    const items: HTMLElement[] = [];
    if (search.query.trim().length > 0 && search.query.trim().length < 3) {
      items.push(h('li', { className: 'mz-Empty' }, trans.__('Type at least 3 characters.')));
    } else if (search.busy && !search.result) {
      items.push(h('li', { className: 'mz-Empty' }, trans.__('Searching…')));
    } else if (search.error) {
      items.push(h('li', {}, errorBox({ title: trans.__('Cannot search'), message: search.error })));
    } else if (search.result) {
      const all = [...search.result.users, ...search.result.groups];
      if (all.length === 0) {
        items.push(h('li', { className: 'mz-Empty' }, trans.__('No user or group matches.')));
      }
      for (const grantee of all) {
        const item = h(
          'li',
          {
            className: `mz-ShareDialog-result${this._isChosen(grantee) ? ' mz-mod-selected' : ''}`,
            testid: 'mz-share-result',
            attrs: {
              role: 'option',
              tabindex: '0',
              'data-name': grantee.name,
              'data-type': grantee.type,
              'aria-selected': this._isChosen(grantee) ? 'true' : 'false'
            }
          },
          h('span', { className: 'mz-ShareDialog-resultName' }, granteeLabel(grantee, trans)),
          h('span', { className: 'mz-ShareDialog-resultMail' }, grantee.mail)
        );
        const choose = () => {
          this._chosen = grantee;
          this._renderResults();
          this._updateSubmit();
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
  }

  private _isChosen(grantee: IGrantee): boolean {
    return !!this._chosen && this._chosen.type === grantee.type && this._chosen.name === grantee.name;
  }

  private _updateSubmit(): void {
    this._submit.disabled = !this._chosen || this._busy;
    this._chosenLabel.textContent = this._chosen
      ? this._trans.__('Share with %1', granteeLabel(this._chosen, this._trans))
      : '';
  }

  private async _shareNow(): Promise<void> {
    const grantee = this._chosen;
    if (!grantee || this._busy) {
      return;
    }
    const trans = this._trans;
    this._busy = true;
    this._updateSubmit();
    this._shareWithError.replaceChildren();
    try {
      const role = this._roleSelect.value as Role;
      await this._model.share(
        { type: grantee.type, name: grantee.name },
        role,
        endOfDay(this._expiryInput.value)
      );
      Notification.success(
        trans.__('Shared “%1” with %2 (%3)', PathExt.basename(this._model.path), granteeLabel(grantee, trans), roleLabel(role, trans)),
        { autoClose: 4000 }
      );
      this._chosen = null;
      this._searchInput.value = '';
      this._expiryInput.value = '';
      this._model.setQuery('');
      this._select('shares');
    } catch (error) {
      this._shareWithError.replaceChildren(
        errorBox({ title: trans.__('Not shared'), message: (error as Error).message }, { testid: 'mz-share-error' })
      );
    } finally {
      this._busy = false;
      this._updateSubmit();
    }
  }

  // ---- LINKS ----------------------------------------------------------------

  private _buildLinks(): HTMLElement {
    const trans = this._trans;
    this._linkType = select(
      LINK_TYPES.map(t => [t, linkTypeLabel(t, trans)] as const),
      { testid: 'mz-link-type', attrs: { 'aria-label': trans.__('Link type') } }
    );
    this._linkPassword = h('input', {
      className: 'mz-Form-input',
      testid: 'mz-link-password',
      attrs: { type: 'password', autocomplete: 'new-password', 'aria-label': trans.__('Password (optional)') }
    });
    this._linkExpiry = h('input', {
      className: 'mz-Form-input mz-ShareDialog-date',
      testid: 'mz-link-expiry',
      attrs: { type: 'date', min: tomorrow(), 'aria-label': trans.__('Expires (optional)') }
    });
    this._linkList = h('ul', { className: 'mz-ShareDialog-list', testid: 'mz-link-list' });
    this._linkError = h('div', { className: 'mz-ShareDialog-error' });
    const create = button(trans.__('Create link'), {
      primary: true,
      testid: 'mz-link-create',
      onClick: async () => {
        this._linkError.replaceChildren();
        create.disabled = true;
        try {
          const expiration = endOfDay(this._linkExpiry.value);
          await this._model.createLink({
            type: this._linkType.value as LinkType,
            ...(this._linkPassword.value ? { password: this._linkPassword.value } : {}),
            ...(expiration ? { expiration } : {})
          });
          this._linkPassword.value = '';
          this._linkExpiry.value = '';
        } catch (error) {
          this._linkError.replaceChildren(
            errorBox({ title: trans.__('No link created'), message: (error as Error).message })
          );
        } finally {
          create.disabled = false;
        }
      }
    });
    return h(
      'div',
      { className: 'mz-ShareDialog-page', testid: 'mz-share-links' },
      this._linkList,
      h(
        'div',
        { className: 'mz-ShareDialog-options' },
        h('label', { className: 'mz-Form-field' }, trans.__('Type'), this._linkType),
        h('label', { className: 'mz-Form-field' }, trans.__('Password (optional)'), this._linkPassword),
        h('label', { className: 'mz-Form-field' }, trans.__('Expires (optional)'), this._linkExpiry)
      ),
      this._linkError,
      h('div', { className: 'mz-Form-actions' }, create)
    );
  }

  private _renderLinks(): void {
    const trans = this._trans;
    const links = this._model.links;
    if (!links) {
      this._linkList.replaceChildren();
      return;
    }
    if (links.error) {
      this._linkList.replaceChildren(
        h('li', {}, errorBox({ title: trans.__('Cannot list the links'), message: links.error }))
      );
      return;
    }
    if (links.items.length === 0) {
      this._linkList.replaceChildren(h('li', { className: 'mz-Empty' }, trans.__('No public link yet.')));
      return;
    }
    this._linkList.replaceChildren(...links.items.map(link => this._linkRow(link)));
  }

  /**
   * One public link: its type, password and expiry, each editable in place
   * (`PATCH /mesh-zenodo/links/<id>`), Copy and Remove.
   */
  private _linkRow(link: ILink): HTMLElement {
    const trans = this._trans;
    const isDirectory = link.resource?.type ? link.resource.type === 'directory' : true;
    const edit = async (body: { type?: LinkType; password?: string; expiration?: string | null }, done: string) => {
      this._linkError.replaceChildren();
      try {
        await this._model.updateLink(link.id, body);
        Notification.success(done, { autoClose: 3000 });
      } catch (error) {
        this._linkError.replaceChildren(
          errorBox({ title: trans.__('Link not changed'), message: (error as Error).message }, { testid: 'mz-link-error' })
        );
      }
    };
    const type = select(
      LINK_TYPES.filter(t => isDirectory || t === 'view' || t === 'edit' || t === link.type).map(
        t => [t, linkTypeLabel(t, trans)] as const
      ),
      { testid: 'mz-link-row-type', attrs: { 'aria-label': trans.__('Link type') } }
    );
    type.value = link.type;
    type.addEventListener('change', () => void edit({ type: type.value as LinkType }, trans.__('Link type changed')));
    const expiry = h('input', {
      className: 'mz-Form-input mz-ShareDialog-date',
      testid: 'mz-link-row-expiry',
      attrs: { type: 'date', min: tomorrow(), 'aria-label': trans.__('Expires') }
    });
    expiry.value = dateInputValue(link.expiration);
    expiry.addEventListener('change', () =>
      void edit(
        { expiration: endOfDay(expiry.value) },
        expiry.value ? trans.__('Expiry set') : trans.__('Expiry removed')
      )
    );
    const password = h('input', {
      className: 'mz-Form-input mz-ShareDialog-linkPassword',
      testid: 'mz-link-row-password',
      attrs: {
        type: 'password',
        autocomplete: 'new-password',
        placeholder: link.password_protected ? trans.__('New password') : trans.__('Password'),
        'aria-label': link.password_protected ? trans.__('New password') : trans.__('Password')
      }
    });
    const setPassword = button(link.password_protected ? trans.__('Change password') : trans.__('Set password'), {
      testid: 'mz-link-row-password-set',
      onClick: () => {
        if (password.value) {
          void edit({ password: password.value }, trans.__('Password set'));
        }
      }
    });
    password.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        event.preventDefault();
        event.stopPropagation();
        setPassword.click();
      }
    });
    return h(
      'li',
      {
        className: 'mz-ShareDialog-row mz-ShareDialog-linkRow',
        testid: 'mz-link-row',
        attrs: {
          'data-id': link.id,
          'data-type': link.type,
          'data-password': link.password_protected ? 'true' : 'false'
        }
      },
      h(
        'div',
        { className: 'mz-ShareDialog-linkLine' },
        h('span', { className: 'mz-ShareDialog-grantee', title: link.url }, link.display_name || link.url),
        h('span', { className: 'mz-Badge' }, linkTypeLabel(link.type, trans)),
        link.password_protected &&
          h('span', { className: 'mz-Badge', testid: 'mz-link-password-badge' }, trans.__('Password')),
        h('span', {}, trans.__('Expires: %1', formatDate(link.expiration, trans)))
      ),
      h(
        'div',
        { className: 'mz-ShareDialog-linkLine' },
        type,
        h('label', { className: 'mz-ShareDialog-expiry' }, trans.__('Expires'), expiry)
      ),
      h(
        'div',
        { className: 'mz-ShareDialog-linkLine' },
        password,
        setPassword,
        link.password_protected &&
          button(trans.__('Remove password'), {
            testid: 'mz-link-row-password-remove',
            onClick: () => void edit({ password: '' }, trans.__('Password removed'))
          })
      ),
      h(
        'div',
        { className: 'mz-ShareDialog-linkLine' },
        button(trans.__('Copy'), {
          testid: 'mz-link-copy',
          onClick: () => {
            Clipboard.copyToSystem(link.url);
            Notification.info(trans.__('Link copied'), { autoClose: 2000 });
          }
        }),
        button(trans.__('Remove'), {
          testid: 'mz-link-remove',
          onClick: async () => {
            try {
              await this._model.removeLink(link.id);
            } catch (error) {
              this._linkError.replaceChildren(
                errorBox({ title: trans.__('Not removed'), message: (error as Error).message })
              );
            }
          }
        })
      )
    );
  }

  private _model: ResourceModel;
  private _zenodoAsked = false;
  private _zenodo: IZenodoPublication | null = null;
  private _options: IShareDialogOptions;
  private _trans: TranslationBundle;
  private _tabBar: HTMLElement;
  private _tabs = new Map<PageId, HTMLButtonElement>();
  private _pages: Record<PageId, HTMLElement>;
  private _current: PageId = 'sharewith';
  private _shareError = h('div', { className: 'mz-ShareDialog-error', testid: 'mz-share-row-error' });
  private _searchInput!: HTMLInputElement;
  private _results!: HTMLElement;
  private _roleSelect!: HTMLSelectElement;
  private _expiryInput!: HTMLInputElement;
  private _submit!: HTMLButtonElement;
  private _chosenLabel!: HTMLElement;
  private _shareWithError!: HTMLElement;
  private _chosen: IGrantee | null = null;
  private _busy = false;
  private _linkType!: HTMLSelectElement;
  private _linkPassword!: HTMLInputElement;
  private _linkExpiry!: HTMLInputElement;
  private _linkList!: HTMLElement;
  private _linkError!: HTMLElement;
}
