import { TranslationBundle } from '@jupyterlab/translation';

import { closeButton, h, select } from '../dom';
import { IPerson, IRelatedIdentifier } from './api';
import { errorSlot, input, text } from './fields';
import { CONTRIBUTOR_TYPES, relations } from './vocabulary';

/**
 * A repeatable row of the form (a creator, a contributor, a related identifier).
 */
export interface IRow {
  node: HTMLElement;
  /** Whether the user left it empty (then it is not sent). */
  empty(): boolean;
  /** Error slots of the row (`''`) and of its parts (`name`, `orcid`...). */
  slots: Map<string, HTMLElement>;
}

export interface IPersonRow extends IRow {
  value(): IPerson;
}

export interface IRelatedRow extends IRow {
  value(): IRelatedIdentifier;
}

/**
 * Add a person (a creator or a contributor) to `rows` and to `list`.
 */
export function addPerson(
  trans: TranslationBundle,
  kind: 'creator' | 'contributor',
  person: IPerson,
  rows: IPersonRow[],
  list: HTMLElement,
  focus = false
): void {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(person)) {
    if (!['name', 'affiliation', 'orcid', 'type'].includes(key)) {
      extra[key] = value;
    }
  }
  const slots = new Map<string, HTMLElement>([
    ['', errorSlot(`${kind}`)],
    ['name', errorSlot('name')],
    ['affiliation', errorSlot('affiliation')],
    ['orcid', errorSlot('orcid')]
  ]);
  const name = input(`mz-publish-${kind}-name`, text(person.name), {
    placeholder: trans.__('Family, Given'),
    'aria-label': trans.__('Name')
  });
  const affiliation = input(`mz-publish-${kind}-affiliation`, text(person.affiliation), {
    placeholder: trans.__('Affiliation'),
    'aria-label': trans.__('Affiliation')
  });
  const orcid = input(`mz-publish-${kind}-orcid`, text(person.orcid), {
    placeholder: trans.__('ORCID, e.g. 0000-0002-1825-0097'),
    'aria-label': trans.__('ORCID')
  });
  let role: HTMLSelectElement | null = null;
  if (kind === 'contributor') {
    slots.set('type', errorSlot('type'));
    const roles = [...CONTRIBUTOR_TYPES];
    const given = text(person.type);
    if (given && !roles.some(r => r.toLowerCase() === given.toLowerCase())) {
      roles.push(given);
    }
    role = select([['', trans.__('Role…')] as const, ...roles.map(r => [r, r] as const)], {
      testid: 'mz-publish-contributor-type',
      attrs: { 'aria-label': trans.__('Role') }
    });
    role.value = roles.find(r => r.toLowerCase() === given.toLowerCase()) ?? '';
  }
  const cell = (control: HTMLElement, part: string) =>
    h('div', { className: 'mz-PublishDialog-cell' }, control, slots.get(part)!);
  const row: IPersonRow = {
    node: h('div', {
      className: 'mz-PublishDialog-row',
      testid: `mz-publish-${kind}`
    }),
    slots,
    empty: () =>
      !name.value.trim() && !affiliation.value.trim() && !orcid.value.trim() && !(role && role.value),
    value: () => {
      const out: IPerson = { ...extra, name: name.value.trim() } as IPerson;
      if (affiliation.value.trim()) {
        out.affiliation = affiliation.value.trim();
      }
      if (orcid.value.trim()) {
        out.orcid = orcid.value.trim();
      }
      if (role && role.value) {
        out.type = role.value;
      }
      return out;
    }
  };
  const remove = closeButton(
    kind === 'creator' ? trans.__('Remove this creator') : trans.__('Remove this contributor'),
    {
      testid: `mz-publish-${kind}-remove`,
      onClick: () => {
        rows.splice(rows.indexOf(row), 1);
        row.node.remove();
      }
    }
  );
  row.node.append(
    h(
      'div',
      { className: 'mz-PublishDialog-rowFields' },
      cell(name, 'name'),
      cell(affiliation, 'affiliation'),
      cell(orcid, 'orcid'),
      role && cell(role, 'type')
    ),
    remove,
    slots.get('')!
  );
  rows.push(row);
  list.append(row.node);
  if (focus) {
    name.focus();
  }
}

/**
 * Add a related identifier to `rows` and to `list`.
 */
export function addRelated(
  trans: TranslationBundle,
  item: IRelatedIdentifier,
  rows: IRelatedRow[],
  list: HTMLElement,
  focus = false
): void {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (!['identifier', 'relation'].includes(key)) {
      extra[key] = value;
    }
  }
  const original = text(item.identifier);
  const slots = new Map<string, HTMLElement>([
    ['', errorSlot('related')],
    ['identifier', errorSlot('identifier')],
    ['relation', errorSlot('relation')]
  ]);
  const identifier = input('mz-publish-related-identifier', original, {
    placeholder: trans.__('DOI, URL, arXiv id…'),
    'aria-label': trans.__('Identifier')
  });
  const choices = [...relations(trans)];
  const given = text(item.relation);
  if (given && !choices.some(([id]) => id === given)) {
    choices.push([given, given]);
  }
  const relation = select(choices, {
    testid: 'mz-publish-related-relation',
    attrs: { 'aria-label': trans.__('Relation') }
  });
  relation.value = given || 'isSupplementTo';
  const row: IRelatedRow = {
    node: h('div', { className: 'mz-PublishDialog-row', testid: 'mz-publish-related-row' }),
    slots,
    empty: () => !identifier.value.trim(),
    value: () => {
      const out: IRelatedIdentifier = {
        ...extra,
        identifier: identifier.value.trim(),
        relation: relation.value
      };
      if (identifier.value.trim() !== original.trim()) {
        delete out.scheme; // it named the identifier that was there before
      }
      return out;
    }
  };
  const remove = closeButton(trans.__('Remove this related identifier'), {
    testid: 'mz-publish-related-remove',
    onClick: () => {
      rows.splice(rows.indexOf(row), 1);
      row.node.remove();
    }
  });
  row.node.append(
    h(
      'div',
      { className: 'mz-PublishDialog-rowFields' },
      h('div', { className: 'mz-PublishDialog-cell' }, relation, slots.get('relation')!),
      h(
        'div',
        { className: 'mz-PublishDialog-cell mz-mod-wide' },
        identifier,
        slots.get('identifier')!
      )
    ),
    remove,
    slots.get('')!
  );
  rows.push(row);
  list.append(row.node);
  if (focus) {
    identifier.focus();
  }
}
