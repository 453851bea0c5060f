import { TranslationBundle } from '@jupyterlab/translation';

import { button, Child, h, select } from '../dom';
import {
  IFieldError,
  IFolderFile,
  IMetadata,
  IPerson,
  IPrepared,
  IRelatedIdentifier
} from './api';
import {
  errorSlot,
  input,
  LicenseField,
  parentField,
  present,
  previousContent,
  text,
  uid
} from './fields';
import { FileChooser } from './files';
import { addPerson, addRelated, IPersonRow, IRelatedRow, IRow } from './rows';
import {
  accessRights,
  familyGiven,
  imageTypes,
  publicationTypes,
  uploadTypes
} from './vocabulary';

/**
 * Everything the form holds: the metadata (with the keys it does not show,
 * kept as they came) and the options of the publication.
 */
export interface IFormState {
  metadata: IMetadata;
  /** Relative paths of the files chosen; `null` for all of them. */
  selected: string[] | null;
  includeHidden: boolean;
  citeDoi: boolean;
  /** Publish now (else leave a draft to review on Zenodo). */
  publish: boolean;
  /** A new version of the record the folder was published as. */
  newVersion: boolean;
}

/** The keys of the metadata the form shows (the others are kept as they are). */
const FORM_KEYS = [
  'title',
  'upload_type',
  'publication_type',
  'image_type',
  'description',
  'creators',
  'contributors',
  'license',
  'access_right',
  'embargo_date',
  'access_conditions',
  'keywords',
  'communities',
  'related_identifiers',
  'version',
  'grants',
  'doi',
  'publication_date'
];

/**
 * The Publish form: the folder's files and the record's metadata, prefilled,
 * with a place under each field for the server's messages about it.
 * Plain DOM, built once; `state()` reads it.
 */
export class PublishForm {
  constructor(options: PublishForm.IOptions) {
    const { trans, prepared } = options;
    this._trans = trans;
    this._prepared = prepared;
    const initial = options.initial;
    const meta: IMetadata = { ...(initial?.metadata ?? prepared.prefill ?? {}) };
    this._base = meta;
    const previous = prepared.previous;
    this._canNewVersion = !!previous && previous.state === 'published';

    // ---- files
    this._files = new FileChooser(trans, prepared, initial?.selected, !!initial?.includeHidden);

    // ---- type
    const type = text(meta.upload_type) || 'dataset';
    this._type = select(uploadTypes(trans), {
      testid: 'mz-publish-type',
      attrs: { id: uid('type') }
    });
    this._type.value = type;
    this._publicationType = select(
      [['', trans.__('Choose…')] as const, ...publicationTypes(trans)],
      { testid: 'mz-publish-publication-type', attrs: { id: uid('pubtype') } }
    );
    this._publicationType.value = text(meta.publication_type);
    this._imageType = select([['', trans.__('Choose…')] as const, ...imageTypes(trans)], {
      testid: 'mz-publish-image-type',
      attrs: { id: uid('imgtype') }
    });
    this._imageType.value = text(meta.image_type);

    // ---- title, description
    this._title = input('mz-publish-title', text(meta.title), { id: uid('title') });
    this._description = h('textarea', {
      className: 'mz-Form-input mz-PublishDialog-description',
      testid: 'mz-publish-description',
      attrs: { rows: '4', id: uid('description') }
    });
    this._description.value = text(meta.description);

    // ---- people
    this._creatorList = h('div', { className: 'mz-PublishDialog-rows', testid: 'mz-publish-creators' });
    let creators = Array.isArray(meta.creators) ? (meta.creators as IPerson[]) : [];
    if (!initial && creators.length === 0 && options.userName) {
      creators = [{ name: familyGiven(options.userName) }];
    }
    for (const person of creators.length ? creators : [{ name: '' }]) {
      addPerson(trans, 'creator', person, this._creators, this._creatorList);
    }
    this._contributorList = h('div', {
      className: 'mz-PublishDialog-rows',
      testid: 'mz-publish-contributors'
    });
    for (const person of Array.isArray(meta.contributors) ? (meta.contributors as IPerson[]) : []) {
      addPerson(trans, 'contributor', person, this._contributors, this._contributorList);
    }

    // ---- license and access
    this._license = new LicenseField(trans, meta.license, type);
    this._type.addEventListener('change', () => {
      this._license.typeChanged(this._type.value);
      this._updateVisibility();
    });

    this._access = select(accessRights(trans), {
      testid: 'mz-publish-access',
      attrs: { id: uid('access') }
    });
    this._access.value = text(meta.access_right) || 'open';
    this._access.addEventListener('change', () => this._updateVisibility());
    this._embargo = h('input', {
      className: 'mz-Form-input mz-PublishDialog-date',
      testid: 'mz-publish-embargo-date',
      attrs: { type: 'date', id: uid('embargo') }
    });
    this._embargo.value = text(meta.embargo_date);
    this._conditions = h('textarea', {
      className: 'mz-Form-input',
      testid: 'mz-publish-access-conditions',
      attrs: { rows: '2', id: uid('conditions') }
    });
    this._conditions.value = text(meta.access_conditions);

    // ---- lists as text
    const list = (value: unknown, key?: string): string =>
      (Array.isArray(value) ? value : [])
        .map(v => (key && v && typeof v === 'object' ? text((v as any)[key]) : text(v)))
        .filter(Boolean)
        .join(', ');
    this._keywords = input('mz-publish-keywords', list(meta.keywords), { id: uid('keywords') });
    this._communities = input('mz-publish-communities', list(meta.communities, 'identifier'), {
      id: uid('communities'),
      placeholder: trans.__('e.g. zenodo, cern')
    });
    this._grants = input('mz-publish-grants', list(meta.grants, 'id'), {
      id: uid('grants'),
      placeholder: trans.__('e.g. 10.13039/501100000780::101057437')
    });

    // ---- related identifiers
    this._relatedList = h('div', { className: 'mz-PublishDialog-rows', testid: 'mz-publish-related' });
    const related = Array.isArray(meta.related_identifiers)
      ? (meta.related_identifiers as IRelatedIdentifier[])
      : [];
    for (const item of related) {
      addRelated(trans, item, this._related, this._relatedList);
    }

    // ---- version, dates, DOI
    this._version = input('mz-publish-version', text(meta.version), {
      id: uid('version'),
      placeholder: trans.__('e.g. 1.0')
    });
    this._date = h('input', {
      className: 'mz-Form-input mz-PublishDialog-date',
      testid: 'mz-publish-date',
      attrs: { type: 'date', id: uid('date') }
    });
    this._date.value = text(meta.publication_date);
    this._doi = input('mz-publish-doi', text(meta.doi), {
      id: uid('doi'),
      placeholder: trans.__('Leave empty: Zenodo registers one')
    });

    // ---- options
    this._citeDoi = h('input', { testid: 'mz-publish-cite-doi', attrs: { type: 'checkbox' } });
    this._citeDoi.checked = initial ? initial.citeDoi : false;
    const group = uid('mode');
    this._publishNow = h('input', {
      testid: 'mz-publish-now',
      attrs: { type: 'radio', name: group, value: 'publish' }
    });
    this._leaveDraft = h('input', {
      testid: 'mz-publish-draft',
      attrs: { type: 'radio', name: group, value: 'draft' }
    });
    const publish = initial ? initial.publish : true;
    this._publishNow.checked = publish;
    this._leaveDraft.checked = !publish;
    this._newVersion = h('input', {
      testid: 'mz-publish-new-version',
      attrs: { type: 'checkbox' }
    });
    this._newVersion.checked = initial ? initial.newVersion || this._canNewVersion : this._canNewVersion;

    this.node = this._build(options);
    // never a page load: the dialog's buttons act
    this.node.addEventListener('submit', event => event.preventDefault());
    this._updateVisibility();
  }

  /** The form's node (the first page of the Publish dialog). */
  readonly node: HTMLElement;

  /** The files of the folder the form lists now (hidden ones only if asked). */
  get shownFiles(): IFolderFile[] {
    return this._files.shownFiles;
  }

  /** The files chosen, as they will be published. */
  get chosenFiles(): IFolderFile[] {
    return this._files.chosenFiles;
  }

  /**
   * What the form holds now.
   */
  state(): IFormState {
    const shown = this.shownFiles;
    const chosen = this.chosenFiles;
    return {
      metadata: this.metadata(),
      selected: chosen.length === shown.length ? null : chosen.map(f => f.path),
      includeHidden: this._files.includeHidden,
      citeDoi: this._citeDoi.checked,
      publish: this._publishNow.checked,
      newVersion: this._canNewVersion && this._newVersion.checked
    };
  }

  /**
   * Choose "New version of that record" (after the server said the folder
   * was published before).
   */
  chooseNewVersion(): void {
    this._canNewVersion = true;
    this._newVersion.checked = true;
    this._previousBox.hidden = false;
    this._newVersionLabel.hidden = false;
  }

  /**
   * Show the server's record of an earlier publication (a 409 answer).
   */
  setPrevious(previous: IPrepared['previous']): void {
    this._prepared = { ...this._prepared, previous };
    this._previousText.replaceChildren(...present(previousContent(this._trans, this._prepared)));
    this.chooseNewVersion();
  }

  /**
   * The metadata as the form holds it (`.zenodo.json` vocabulary): the
   * prefilled keys the form does not show, then the form's fields; empty
   * fields are left out.
   */
  metadata(): IMetadata {
    const out: IMetadata = {};
    for (const [key, value] of Object.entries(this._base)) {
      if (!FORM_KEYS.includes(key)) {
        out[key] = value;
      }
    }
    const set = (key: string, value: unknown) => {
      const empty =
        value === undefined ||
        value === null ||
        (typeof value === 'string' && !value.trim()) ||
        (Array.isArray(value) && value.length === 0);
      if (!empty) {
        out[key] = typeof value === 'string' ? value.trim() : value;
      }
    };
    const type = this._type.value;
    set('title', this._title.value);
    set('upload_type', type);
    if (type === 'publication') {
      set('publication_type', this._publicationType.value);
    }
    if (type === 'image') {
      set('image_type', this._imageType.value);
    }
    set('description', this._description.value);
    this._sentCreators = this._creators.filter(r => !r.empty());
    set('creators', this._sentCreators.map(r => r.value()));
    this._sentContributors = this._contributors.filter(r => !r.empty());
    set('contributors', this._sentContributors.map(r => r.value()));
    set('license', this._license.value);
    const access = this._access.value;
    set('access_right', access);
    if (access === 'embargoed') {
      set('embargo_date', this._embargo.value);
    }
    if (access === 'restricted') {
      set('access_conditions', this._conditions.value);
    }
    const split = (value: string) =>
      value
        .split(/[,;\n]/)
        .map(v => v.trim())
        .filter(Boolean);
    set('keywords', split(this._keywords.value));
    set(
      'communities',
      split(this._communities.value).map(identifier => ({ identifier }))
    );
    this._sentRelated = this._related.filter(r => !r.empty());
    set('related_identifiers', this._sentRelated.map(r => r.value()));
    set('version', this._version.value);
    set('grants', split(this._grants.value).map(id => ({ id })));
    set('doi', this._doi.value);
    set('publication_date', this._date.value);
    return out;
  }

  /**
   * Show the problems under their fields (the form's own box for the others);
   * earlier messages go away. Returns how many were shown.
   */
  showErrors(errors: IFieldError[]): number {
    this.clearErrors();
    this.metadata(); // which row is which index, as it was sent
    const slots = this._allSlots();
    let first: HTMLElement | null = null;
    let count = 0;
    for (const error of errors) {
      let field = error.field;
      let slot = slots.get(field);
      while (!slot && field) {
        field = parentField(field);
        slot = slots.get(field);
      }
      if (!slot) {
        slot = this._formError;
      }
      const prefix = slot === this._formError && error.field ? `${error.field}: ` : '';
      for (const message of error.messages) {
        slot.append(h('div', { className: 'mz-PublishDialog-errorLine' }, prefix + message));
        count++;
      }
      slot.hidden = false;
      if (slot !== this._formError) {
        slot.parentElement?.classList.add('mz-mod-invalid');
      }
      if (!first) {
        first = slot;
      }
    }
    first?.scrollIntoView({ block: 'center' });
    return count;
  }

  /** Remove every message. */
  clearErrors(): void {
    const rows = [...this._creators, ...this._contributors, ...this._related];
    const slots = [
      this._formError,
      ...this._slots.values(),
      ...([] as HTMLElement[]).concat(...rows.map(row => [...row.slots.values()]))
    ];
    for (const slot of slots) {
      slot.replaceChildren();
      slot.hidden = true;
      slot.parentElement?.classList.remove('mz-mod-invalid');
    }
  }

  /**
   * The checks the form makes itself (the server makes the others).
   */
  localErrors(): IFieldError[] {
    const trans = this._trans;
    if (this.chosenFiles.length === 0) {
      return [{ field: 'files', messages: [trans.__('Choose at least one file to publish.')] }];
    }
    return [];
  }

  /** Notices above the form (where the values came from...). */
  setNotice(content: Child[]): void {
    const nodes = content.filter((c): c is Node | string => !!c);
    this._notice.replaceChildren(...nodes);
    this._notice.hidden = nodes.length === 0;
  }

  // ---- building -----------------------------------------------------------

  private _build(options: PublishForm.IOptions): HTMLElement {
    const trans = this._trans;
    const prepared = this._prepared;
    this._formError = errorSlot('');
    this._notice = h('div', { className: 'mz-PublishDialog-notice', testid: 'mz-publish-notice' });
    this._notice.hidden = true;

    const source = options.initial
      ? trans.__('Your entries from before are kept.')
      : prepared.prefill_source
        ? trans.__('Filled in from %1', prepared.prefill_source)
        : null;
    this._previousText = h('div', { className: 'mz-PublishDialog-previous' });
    this._previousText.replaceChildren(...present(previousContent(trans, prepared)));
    this._newVersionLabel = h(
      'label',
      { className: 'mz-Form-check mz-PublishDialog-newVersion' },
      this._newVersion,
      trans.__('New version of that record')
    );
    this._newVersionLabel.hidden = !this._canNewVersion;
    this._previousBox = h(
      'div',
      { className: 'mz-Notice mz-mod-info', testid: 'mz-publish-previous' },
      this._previousText,
      this._newVersionLabel
    );
    this._previousBox.hidden = !prepared.previous && !prepared.publishing;

    const files = this._files.field(this._slot('files'));

    this._subtypeFields = {
      publication: this._field('publication_type', trans.__('Publication type'), this._publicationType),
      image: this._field('image_type', trans.__('Image type'), this._imageType)
    };
    this._embargoField = this._field('embargo_date', trans.__('Embargo ends on'), this._embargo);
    this._conditionsField = this._field(
      'access_conditions',
      trans.__('Conditions of access'),
      this._conditions,
      trans.__('Who may get the files, and how they ask for them.')
    );

    const section = (title: string, ...children: Child[]) =>
      h(
        'fieldset',
        { className: 'mz-PublishDialog-section' },
        h('legend', { className: 'mz-PublishDialog-legend' }, title),
        ...children
      );

    return h(
      'form',
      {
        className: 'mz-PublishDialog-form',
        testid: 'mz-publish-form',
        attrs: { novalidate: '', autocomplete: 'off' }
      },
      this._notice,
      source && h('div', { className: 'mz-Notice mz-mod-info', testid: 'mz-publish-prefill' }, source),
      this._previousBox,
      this._formError,
      section(trans.__('Files'), files),
      section(
        trans.__('Description'),
        this._field('upload_type', trans.__('Resource type'), this._type),
        this._subtypeFields.publication,
        this._subtypeFields.image,
        this._field('title', trans.__('Title'), this._title),
        this._field(
          'description',
          trans.__('Description'),
          this._description,
          trans.__('Plain text, or limited HTML (paragraphs, lists, links).')
        ),
        this._field('version', trans.__('Version'), this._version),
        this._field(
          'publication_date',
          trans.__('Publication date'),
          this._date,
          trans.__('Empty: the day it is published.')
        ),
        this._field(
          'keywords',
          trans.__('Keywords'),
          this._keywords,
          trans.__('Separated by commas.')
        )
      ),
      section(
        trans.__('People'),
        h(
          'div',
          { className: 'mz-Form-field mz-PublishDialog-field', attrs: { 'data-field': 'creators' } },
          h('label', {}, trans.__('Creators')),
          h(
            'div',
            { className: 'mz-Form-help' },
            trans.__('A person as “Family, Given”; an organisation by its name (without a comma).')
          ),
          this._creatorList,
          this._slot('creators'),
          button(trans.__('Add creator'), {
            testid: 'mz-publish-add-creator',
            onClick: () => addPerson(trans, 'creator', { name: '' }, this._creators, this._creatorList, true)
          })
        ),
        h(
          'div',
          { className: 'mz-Form-field mz-PublishDialog-field', attrs: { 'data-field': 'contributors' } },
          h('label', {}, trans.__('Contributors (optional)')),
          this._contributorList,
          this._slot('contributors'),
          button(trans.__('Add contributor'), {
            testid: 'mz-publish-add-contributor',
            onClick: () =>
              addPerson(trans, 'contributor', { name: '' }, this._contributors, this._contributorList, true)
          })
        )
      ),
      section(
        trans.__('License and access'),
        this._field(
          'license',
          trans.__('License'),
          h('div', { className: 'mz-PublishDialog-license' }, this._license.filter, this._license.select)
        ),
        this._field('access_right', trans.__('Access'), this._access),
        this._embargoField,
        this._conditionsField
      ),
      section(
        trans.__('Related works and funding'),
        this._field(
          'communities',
          trans.__('Communities (optional)'),
          this._communities,
          trans.__('Their short names (zenodo.org/communities/<name>), separated by commas.')
        ),
        h(
          'div',
          {
            className: 'mz-Form-field mz-PublishDialog-field',
            attrs: { 'data-field': 'related_identifiers' }
          },
          h('label', {}, trans.__('Related identifiers (optional)')),
          this._relatedList,
          this._slot('related_identifiers'),
          button(trans.__('Add related identifier'), {
            testid: 'mz-publish-add-related',
            onClick: () =>
              addRelated(
                trans,
                { identifier: '', relation: 'isSupplementTo' },
                this._related,
                this._relatedList,
                true
              )
          })
        ),
        this._field(
          'grants',
          trans.__('Funding (optional)'),
          this._grants,
          trans.__('Grant ids (<funder DOI>::<award number>), separated by commas.')
        )
      ),
      section(
        trans.__('Publication'),
        this._field(
          'doi',
          trans.__('DOI (optional)'),
          this._doi,
          trans.__('Only if the work already has a DOI; else Zenodo reserves one.')
        ),
        h(
          'label',
          { className: 'mz-Form-check' },
          this._citeDoi,
          trans.__('Write the DOI into README and CITATION.cff')
        ),
        h(
          'div',
          { className: 'mz-PublishDialog-mode', attrs: { role: 'radiogroup' } },
          h('label', { className: 'mz-Form-check' }, this._publishNow, trans.__('Publish now')),
          h(
            'label',
            { className: 'mz-Form-check' },
            this._leaveDraft,
            trans.__('Leave a draft to review on Zenodo')
          )
        )
      )
    );
  }

  private _field(id: string, label: string, control: HTMLElement, help?: string): HTMLElement {
    const labelNode = h('label', {}, label);
    const target = control.id ? control : control.querySelector('select, input, textarea');
    if (target && target.id) {
      labelNode.htmlFor = target.id;
    }
    return h(
      'div',
      { className: 'mz-Form-field mz-PublishDialog-field', attrs: { 'data-field': id } },
      labelNode,
      control,
      help && h('div', { className: 'mz-Form-help' }, help),
      this._slot(id)
    );
  }

  private _slot(field: string): HTMLElement {
    const slot = errorSlot(field);
    this._slots.set(field, slot);
    return slot;
  }

  private _allSlots(): Map<string, HTMLElement> {
    const all = new Map(this._slots);
    all.set('', this._formError);
    const add = (prefix: string, rows: IRow[]) =>
      rows.forEach((row, index) => {
        for (const [part, slot] of row.slots) {
          all.set(part ? `${prefix}[${index}].${part}` : `${prefix}[${index}]`, slot);
        }
      });
    add('creators', this._sentCreators);
    add('contributors', this._sentContributors);
    add('related_identifiers', this._sentRelated);
    return all;
  }

  private _updateVisibility(): void {
    const type = this._type.value;
    this._subtypeFields.publication.hidden = type !== 'publication';
    this._subtypeFields.image.hidden = type !== 'image';
    const access = this._access.value;
    this._embargoField.hidden = access !== 'embargoed';
    this._conditionsField.hidden = access !== 'restricted';
  }

  private _trans: TranslationBundle;
  private _prepared: IPrepared;
  private _base: IMetadata;
  private _canNewVersion: boolean;
  private _files: FileChooser;
  private _type: HTMLSelectElement;
  private _publicationType: HTMLSelectElement;
  private _imageType: HTMLSelectElement;
  private _subtypeFields!: { publication: HTMLElement; image: HTMLElement };
  private _title: HTMLInputElement;
  private _description: HTMLTextAreaElement;
  private _creatorList: HTMLElement;
  private _contributorList: HTMLElement;
  private _creators: IPersonRow[] = [];
  private _contributors: IPersonRow[] = [];
  private _sentCreators: IPersonRow[] = [];
  private _sentContributors: IPersonRow[] = [];
  private _license: LicenseField;
  private _access: HTMLSelectElement;
  private _embargo: HTMLInputElement;
  private _embargoField!: HTMLElement;
  private _conditions: HTMLTextAreaElement;
  private _conditionsField!: HTMLElement;
  private _keywords: HTMLInputElement;
  private _communities: HTMLInputElement;
  private _grants: HTMLInputElement;
  private _relatedList: HTMLElement;
  private _related: IRelatedRow[] = [];
  private _sentRelated: IRelatedRow[] = [];
  private _version: HTMLInputElement;
  private _date: HTMLInputElement;
  private _doi: HTMLInputElement;
  private _citeDoi: HTMLInputElement;
  private _publishNow: HTMLInputElement;
  private _leaveDraft: HTMLInputElement;
  private _newVersion: HTMLInputElement;
  private _newVersionLabel!: HTMLElement;
  private _previousBox!: HTMLElement;
  private _previousText!: HTMLElement;
  private _notice!: HTMLElement;
  private _formError!: HTMLElement;
  private _slots = new Map<string, HTMLElement>();
}

export namespace PublishForm {
  export interface IOptions {
    trans: TranslationBundle;
    /** What the server read of the folder. */
    prepared: IPrepared;
    /** The form as the user left it (instead of the prefill). */
    initial: IFormState | null;
    /** The signed-in user's display name, for the first creator. */
    userName: string | null;
  }
}
