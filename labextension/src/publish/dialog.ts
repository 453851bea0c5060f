import { Dialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { button, Child, h, spinner } from '../dom';
import { errorBox } from '../feedback';
import { ICS3Session } from '../tokens';
import { describeFailure } from '../zenodo/failure';
import { hostOf, htmlToText, humanSize } from '../zenodo/format';
import { ZenodoModel } from '../zenodo/model';
import {
  IFieldError,
  IFolderFile,
  IPerson,
  IPrepared,
  IPublishFailure,
  IPublishRequest,
  toPublishFailure
} from './api';
import { IFormState, PublishForm } from './form';
import { PublishManager, PublishTask } from './model';
import {
  accessRights,
  imageTypes,
  LICENSES,
  publicationTypes,
  relations,
  titleOf,
  uploadTypes
} from './vocabulary';

type Step = 'loading' | 'failed' | 'form' | 'confirm';

/** The actions of the dialog's own buttons (the dialog stays open for them). */
const NEXT = 'mz-publish-next';
const EDIT = 'mz-publish-edit';
const CONFIRM = 'mz-publish-confirm';

/**
 * What the Publish dialog needs.
 */
export interface IPublishDialogOptions {
  /** The folder as Lab shows it (no leading slash). */
  path: string;
  manager: PublishManager;
  /** Who is signed in to Zenodo. */
  zenodo: ZenodoModel;
  session: ICS3Session | null;
  trans: TranslationBundle;
  /** Open the Zenodo panel's sign-in. */
  signIn: () => void;
  /** The form to start from (else the one kept for the folder, else the prefill). */
  form?: IFormState | null;
  /** Problems to show at once (those of a failed publication). */
  errors?: IFieldError[];
}

/**
 * Open the Publish dialog of a folder: the form, then a confirmation page,
 * then the publication starts (its job shows in the Publish tab's tray).
 * Resolves with the publication started, or null.
 */
export async function openPublishDialog(options: IPublishDialogOptions): Promise<PublishTask | null> {
  const { trans } = options;
  const path = options.path.replace(/^\/+|\/+$/g, '');
  const name = PathExt.basename(path) || path;
  const flow = new PublishFlow({ ...options, path });
  const dialog = new StepDialog(
    {
      title: trans.__('Publish “%1” to Zenodo', name),
      body: flow,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel'), className: 'mz-PublishDialog-cancel' }),
        Dialog.cancelButton({
          label: trans.__('Edit'),
          className: 'mz-PublishDialog-edit',
          actions: [EDIT]
        }),
        Dialog.okButton({
          label: trans.__('Next'),
          className: 'mz-PublishDialog-next',
          actions: [NEXT]
        }),
        Dialog.okButton({
          label: trans.__('Confirm'),
          className: 'mz-PublishDialog-confirm',
          actions: [CONFIRM]
        })
      ],
      // Enter in a field must not publish
      defaultButton: -1
    },
    action => flow.act(action)
  );
  dialog.addClass('mz-PublishDialog');
  flow.attach(dialog);
  void flow.load();
  try {
    await dialog.launch();
  } catch {
    // disposed
  } finally {
    flow.closed();
    dialog.dispose();
  }
  return flow.started;
}

/**
 * A stock Dialog whose own buttons (Next, Edit, Confirm) do not close it.
 */
class StepDialog extends Dialog<unknown> {
  constructor(
    options: Partial<Dialog.IOptions<unknown>>,
    private readonly _onAction: (action: string) => void
  ) {
    super(options);
    this._list = options.buttons ?? [];
  }

  resolve(index?: number): void {
    if (index !== undefined && index < 0) {
      return; // no default button: Enter does nothing
    }
    const button = index === undefined ? undefined : this._list[index];
    const action = button?.actions.find(a => a.startsWith('mz-publish-'));
    if (action) {
      this._onAction(action);
      return;
    }
    super.resolve(index);
  }

  private _list: ReadonlyArray<Dialog.IButton>;
}

/**
 * The body of the Publish dialog and what its steps do.
 */
class PublishFlow extends Widget {
  constructor(private readonly _options: IPublishDialogOptions) {
    super();
    this.addClass('mz-PublishDialog-body');
    this.node.dataset.testid = 'mz-publish-dialog';
    this._trans = _options.trans;
    this._formPage = h('div', { className: 'mz-PublishDialog-page', testid: 'mz-publish-page-form' });
    this._confirmPage = h('div', {
      className: 'mz-PublishDialog-page',
      testid: 'mz-publish-page-confirm'
    });
    this._statusPage = h('div', { className: 'mz-PublishDialog-page' });
    this.node.append(this._statusPage, this._formPage, this._confirmPage);
  }

  /** The publication started, once it is. */
  started: PublishTask | null = null;

  attach(dialog: StepDialog): void {
    this._dialog = dialog;
    this._setStep('loading');
  }

  /** The dialog closed (a form left half-done is not kept, unless asked). */
  closed(): void {
    this._closed = true;
  }

  async load(): Promise<void> {
    const { manager, zenodo, path } = this._options;
    this._statusPage.replaceChildren(spinner(this._trans.__('Reading /%1…', path), 'mz-publish-loading'));
    let prepared: IPrepared;
    try {
      [prepared] = await Promise.all([manager.api.prepare(path), zenodo.refresh()]);
    } catch (error) {
      const failure = toPublishFailure(error, this._trans);
      this._statusPage.replaceChildren(
        errorBox(describeFailure(failure, this._trans, this._trans.__('Cannot publish /%1', path)), {
          testid: 'mz-publish-load-error'
        })
      );
      this._setStep('failed');
      return;
    }
    if (this._closed) {
      return;
    }
    this._prepared = prepared;
    const session = this._options.session?.session;
    this._form = new PublishForm({
      trans: this._trans,
      prepared,
      initial: this._options.form ?? manager.formOf(path),
      userName: session ? session.user.display_name || session.user.username : null
    });
    this._formPage.replaceChildren(this._form.node);
    this._updateSignInNotice();
    this._setStep('form');
    if (this._options.errors?.length) {
      this._form.showErrors(this._options.errors);
    }
    const running = manager.runningFor(path);
    if (running) {
      this._form.showErrors([
        {
          field: '',
          messages: [this._trans.__('/%1 is being published already: wait for it to finish.', path)]
        }
      ]);
    }
  }

  /** A button of the dialog was pressed. */
  act(action: string): void {
    if (this._busy) {
      return;
    }
    if (action === NEXT && this._step === 'form') {
      void this._next();
    } else if (action === EDIT && this._step === 'confirm') {
      this._setStep('form');
    } else if (action === CONFIRM && this._step === 'confirm') {
      void this._confirm();
    }
  }

  // ---- steps ---------------------------------------------------------------

  private async _next(): Promise<void> {
    const form = this._form!;
    const local = form.localErrors();
    if (local.length) {
      form.showErrors(local);
      return;
    }
    this._setBusy(true);
    let errors: IFieldError[];
    try {
      errors = await this._options.manager.api.check(form.metadata());
    } catch (error) {
      const failure = toPublishFailure(error, this._trans);
      form.showErrors([{ field: '', messages: [failure.message] }]);
      return;
    } finally {
      this._setBusy(false);
    }
    if (errors.length) {
      form.showErrors(errors);
      return;
    }
    form.clearErrors();
    this._state = form.state();
    this._renderConfirm();
    this._setStep('confirm');
  }

  private async _confirm(): Promise<void> {
    const state = this._state!;
    const form = this._form!;
    const path = this._options.path;
    const request: IPublishRequest = {
      path,
      metadata: state.metadata,
      files: form.chosenFiles.map(f => f.path),
      publish: state.publish,
      new_version: state.newVersion,
      cite_doi: state.citeDoi,
      include_hidden: state.includeHidden
    };
    this._setBusy(true);
    this._confirmError.replaceChildren();
    try {
      this.started = await this._options.manager.start(request, state);
    } catch (error) {
      this._setBusy(false);
      this._refused(toPublishFailure(error, this._trans));
      return;
    }
    this._setBusy(false);
    this._dialog?.reject(); // close
  }

  private _refused(failure: IPublishFailure): void {
    const trans = this._trans;
    const form = this._form!;
    if (failure.status === 401) {
      this._confirmError.replaceChildren(
        errorBox(
          {
            title: trans.__('Sign in to Zenodo first'),
            message: failure.message,
            reason: failure.reason
          },
          {
            testid: 'mz-publish-confirm-error',
            extra: [this._signInButton()]
          }
        )
      );
      return;
    }
    if (failure.status === 409 && failure.previous) {
      form.setPrevious(failure.previous);
      this._setStep('form');
      form.showErrors([
        {
          field: '',
          messages: [
            failure.message,
            trans.__('“New version of that record” is now chosen: press Next to check it again.')
          ]
        }
      ]);
      return;
    }
    if (failure.errors.length) {
      this._setStep('form');
      form.showErrors(failure.errors);
      return;
    }
    this._confirmError.replaceChildren(
      errorBox(describeFailure(failure, trans, trans.__('Not published')), {
        testid: 'mz-publish-confirm-error'
      })
    );
  }

  // ---- rendering -----------------------------------------------------------

  private _setStep(step: Step): void {
    this._step = step;
    if (this._dialog) {
      this._dialog.node.dataset.step = step;
    }
    this._statusPage.hidden = step !== 'loading' && step !== 'failed';
    this._formPage.hidden = step !== 'form';
    this._confirmPage.hidden = step !== 'confirm';
    if (step === 'confirm') {
      this._confirmPage.scrollIntoView({ block: 'start' });
    }
  }

  private _setBusy(busy: boolean): void {
    this._busy = busy;
    this.node.classList.toggle('mz-mod-busy', busy);
    if (this._dialog) {
      for (const node of Array.from(
        this._dialog.node.querySelectorAll<HTMLButtonElement>(
          '.mz-PublishDialog-next, .mz-PublishDialog-confirm, .mz-PublishDialog-edit'
        )
      )) {
        node.disabled = busy;
      }
    }
  }

  private _signInButton(): HTMLButtonElement {
    return button(this._trans.__('Sign in to Zenodo…'), {
      primary: true,
      testid: 'mz-publish-sign-in',
      onClick: () => {
        // the form is kept for when the user comes back
        this._options.manager.keepForm(this._options.path, this._form?.state() ?? null);
        this._dialog?.reject();
        this._options.signIn();
      }
    });
  }

  private _updateSignInNotice(): void {
    const status = this._options.zenodo.status;
    if (status?.connected) {
      this._form?.setNotice([]);
      return;
    }
    const trans = this._trans;
    this._form?.setNotice([
      h(
        'div',
        { className: 'mz-Notice', testid: 'mz-publish-signed-out' },
        h('div', { className: 'mz-Notice-title' }, trans.__('Sign in to Zenodo first')),
        h(
          'div',
          {},
          trans.__('Publishing needs your Zenodo access token. Your entries here are kept while you sign in.')
        ),
        this._signInButton()
      )
    ]);
  }

  private _renderConfirm(): void {
    const trans = this._trans;
    const state = this._state!;
    const form = this._form!;
    const meta = state.metadata;
    const files = form.chosenFiles;
    const total = files.reduce((sum, f) => sum + f.size, 0);
    const status = this._options.zenodo.status;
    const previous = this._prepared?.previous ?? null;

    const server = status?.connected
      ? serverLabel(status.base_url, trans)
      : trans.__('Not signed in to Zenodo');
    const mode = state.publish
      ? trans.__('Publish now: the record and its DOI are permanent; files cannot be changed afterwards.')
      : trans.__('Leave a draft on Zenodo: nothing is public until you publish it there.');

    const rows: [string, string, Child][] = [];
    const row = (id: string, label: string, value: Child) => rows.push([id, label, value]);
    row('server', trans.__('Zenodo server'), server);
    row('mode', trans.__('What happens'), mode);
    if (state.newVersion && previous) {
      row(
        'new-version',
        trans.__('New version of'),
        `${previous.doi || previous.record_id}${previous.version ? ` (${trans.__('version %1', previous.version)})` : ''}`
      );
    }
    row('folder', trans.__('Folder'), `/${this._options.path}`);
    row('title', trans.__('Title'), text(meta.title));
    const type = titleOf(uploadTypes(trans), text(meta.upload_type));
    const subtype =
      meta.upload_type === 'publication'
        ? titleOf(publicationTypes(trans), text(meta.publication_type))
        : meta.upload_type === 'image'
          ? titleOf(imageTypes(trans), text(meta.image_type))
          : '';
    row('type', trans.__('Resource type'), subtype ? `${type} · ${subtype}` : type);
    row('creators', trans.__('Creators'), people(meta.creators, trans));
    if (meta.contributors?.length) {
      row('contributors', trans.__('Contributors'), people(meta.contributors, trans));
    }
    if (meta.description) {
      row('description', trans.__('Description'), htmlToText(text(meta.description)));
    }
    row('version', trans.__('Version'), text(meta.version) || '—');
    row(
      'publication-date',
      trans.__('Publication date'),
      text(meta.publication_date) || trans.__('the day it is published')
    );
    row(
      'license',
      trans.__('License'),
      meta.license ? titleOf(LICENSES, text(meta.license)) : trans.__('none')
    );
    const access = titleOf(accessRights(trans), text(meta.access_right) || 'open');
    row(
      'access',
      trans.__('Access'),
      meta.access_right === 'embargoed'
        ? trans.__('%1 until %2', access, text(meta.embargo_date))
        : meta.access_right === 'restricted'
          ? `${access}: ${text(meta.access_conditions)}`
          : access
    );
    if (meta.keywords?.length) {
      row('keywords', trans.__('Keywords'), meta.keywords.join(', '));
    }
    if (meta.communities?.length) {
      row('communities', trans.__('Communities'), meta.communities.map(c => c.identifier).join(', '));
    }
    if (meta.related_identifiers?.length) {
      row(
        'related',
        trans.__('Related identifiers'),
        h(
          'ul',
          { className: 'mz-PublishDialog-plain' },
          ...meta.related_identifiers.map(r =>
            h('li', {}, `${titleOf(relations(trans), r.relation)} ${r.identifier}`)
          )
        )
      );
    }
    if (meta.grants?.length) {
      row('grants', trans.__('Funding'), meta.grants.map(g => g.id).join(', '));
    }
    row('doi', trans.__('DOI'), text(meta.doi) || trans.__('reserved by Zenodo'));
    row(
      'cite-doi',
      trans.__('DOI written into README and CITATION.cff'),
      state.citeDoi ? trans.__('yes') : trans.__('no')
    );

    this._confirmError = h('div', { className: 'mz-PublishDialog-confirmError' });
    this._confirmPage.replaceChildren(
      h(
        'div',
        { className: 'mz-PublishDialog-confirm', testid: 'mz-publish-confirm' },
        h('p', { className: 'mz-PublishDialog-lead' }, trans.__('Check what goes to Zenodo, then Confirm.')),
        h(
          'dl',
          { className: 'mz-PublishDialog-facts' },
          ...([] as HTMLElement[]).concat(
            ...rows.map(([id, label, value]) => [
              h('dt', {}, label),
              h('dd', { testid: `mz-publish-confirm-${id}` }, value)
            ])
          )
        ),
        h(
          'div',
          { className: 'mz-PublishDialog-heading', testid: 'mz-publish-confirm-total' },
          trans._n('%1 file · %2', '%1 files · %2', files.length, humanSize(total))
        ),
        h(
          'ul',
          { className: 'mz-PublishDialog-confirmFiles', testid: 'mz-publish-confirm-files' },
          ...files.map(f =>
            h(
              'li',
              { attrs: { 'data-path': f.path } },
              h('span', { className: 'mz-PublishDialog-fileName' }, f.path),
              h('span', { className: 'mz-PublishDialog-fileSize' }, humanSize(f.size))
            )
          )
        ),
        h(
          'div',
          { className: 'mz-Form-help', testid: 'mz-publish-confirm-uploads' },
          trans.__('On Zenodo: %1', uploadKeys(files, PathExt.basename(this._options.path)).join(', '))
        ),
        this._confirmError
      )
    );
  }

  private _trans: TranslationBundle;
  private _dialog: StepDialog | null = null;
  private _step: Step = 'loading';
  private _busy = false;
  private _closed = false;
  private _prepared: IPrepared | null = null;
  private _form: PublishForm | null = null;
  private _state: IFormState | null = null;
  private _formPage: HTMLElement;
  private _confirmPage: HTMLElement;
  private _statusPage: HTMLElement;
  private _confirmError: HTMLElement = h('div');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function people(list: IPerson[] | undefined, trans: TranslationBundle): HTMLElement {
  return h(
    'ul',
    { className: 'mz-PublishDialog-plain' },
    ...(list ?? []).map(p =>
      h(
        'li',
        {},
        [
          p.name,
          p.type ? `(${p.type})` : '',
          p.affiliation ? `· ${p.affiliation}` : '',
          p.orcid ? `· ORCID ${p.orcid}` : ''
        ]
          .filter(Boolean)
          .join(' ')
      )
    )
  );
}

/**
 * The Zenodo server for people: "Zenodo (zenodo.org)", "Zenodo sandbox
 * (sandbox.zenodo.org): a test server", else the base URL.
 */
export function serverLabel(baseUrl: string, trans: TranslationBundle): string {
  const host = hostOf(baseUrl);
  if (host === 'zenodo.org') {
    return trans.__('Zenodo (zenodo.org)');
  }
  if (host === 'sandbox.zenodo.org') {
    return trans.__('Zenodo sandbox (sandbox.zenodo.org): a test server, not the real Zenodo');
  }
  return baseUrl;
}

/**
 * The files of the record (the server's layout): top-level files as they
 * are, one ZIP per subfolder, and the manifest.
 */
export function uploadKeys(files: IFolderFile[], folderName: string): string[] {
  const top = files.filter(f => !f.path.includes('/')).map(f => f.path);
  const folders = Array.from(new Set(files.filter(f => f.path.includes('/')).map(f => f.path.split('/')[0]))).sort();
  const taken = new Set([...top, 'manifest.json']);
  const zips = folders.map(name => {
    let key = `${name}.zip`;
    for (let n = 2; taken.has(key); n++) {
      key = `${name}-${n}.zip`;
    }
    taken.add(key);
    return key;
  });
  if (top.length + zips.length + 1 > 100 && top.length) {
    return [`${folderName || 'files'}-files.zip`, ...zips, 'manifest.json'];
  }
  return [...top, ...zips, 'manifest.json'];
}

