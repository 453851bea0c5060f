import { TranslationBundle } from '@jupyterlab/translation';

/*
 * The choices of the Publish form: Zenodo's legacy deposit vocabulary
 * (developers.zenodo.org), as mesh_zenodo/zenodo/vocabulary.py and
 * mesh_zenodo/services/metadata/fields.py name it. The server checks every
 * value again (`POST /mesh-zenodo/zenodo/metadata/check`).
 */

type Choices = ReadonlyArray<readonly [string, string]>;

/** `upload_type`. */
export function uploadTypes(trans: TranslationBundle): Choices {
  return [
    ['dataset', trans.__('Dataset')],
    ['software', trans.__('Software')],
    ['publication', trans.__('Publication')],
    ['poster', trans.__('Poster')],
    ['presentation', trans.__('Presentation')],
    ['image', trans.__('Image')],
    ['video', trans.__('Video/Audio')],
    ['lesson', trans.__('Lesson')],
    ['physicalobject', trans.__('Physical object')],
    ['other', trans.__('Other')]
  ];
}

/** `publication_type`, required for a publication. */
export function publicationTypes(trans: TranslationBundle): Choices {
  return [
    ['article', trans.__('Journal article')],
    ['preprint', trans.__('Preprint')],
    ['book', trans.__('Book')],
    ['section', trans.__('Book section')],
    ['conferencepaper', trans.__('Conference paper')],
    ['report', trans.__('Report')],
    ['thesis', trans.__('Thesis')],
    ['workingpaper', trans.__('Working paper')],
    ['technicalnote', trans.__('Technical note')],
    ['softwaredocumentation', trans.__('Software documentation')],
    ['datamanagementplan', trans.__('Data management plan')],
    ['deliverable', trans.__('Project deliverable')],
    ['milestone', trans.__('Project milestone')],
    ['proposal', trans.__('Proposal')],
    ['patent', trans.__('Patent')],
    ['annotationcollection', trans.__('Annotation collection')],
    ['taxonomictreatment', trans.__('Taxonomic treatment')],
    ['other', trans.__('Other')]
  ];
}

/** `image_type`, required for an image. */
export function imageTypes(trans: TranslationBundle): Choices {
  return [
    ['figure', trans.__('Figure')],
    ['plot', trans.__('Plot')],
    ['drawing', trans.__('Drawing')],
    ['diagram', trans.__('Diagram')],
    ['photo', trans.__('Photo')],
    ['other', trans.__('Other')]
  ];
}

/** `access_right`. */
export function accessRights(trans: TranslationBundle): Choices {
  return [
    ['open', trans.__('Open access')],
    ['embargoed', trans.__('Embargoed access')],
    ['restricted', trans.__('Restricted access')],
    ['closed', trans.__('Closed access')]
  ];
}

/**
 * The licenses offered (the ids Zenodo names them by; the server's
 * vocabulary, mesh_zenodo/zenodo/vocabulary.py `LICENSES`). Titles are
 * license names, not translated.
 */
export const LICENSES: Choices = [
  ['cc-by-4.0', 'Creative Commons Attribution 4.0 International'],
  ['cc-by-sa-4.0', 'Creative Commons Attribution Share Alike 4.0 International'],
  ['cc-by-nc-4.0', 'Creative Commons Attribution Non Commercial 4.0 International'],
  ['cc0-1.0', 'Creative Commons Zero v1.0 Universal'],
  ['mit', 'MIT License'],
  ['apache-2.0', 'Apache License 2.0'],
  ['bsd-3-clause', 'BSD 3-Clause "New" or "Revised" License'],
  ['gpl-3.0-or-later', 'GNU General Public License v3.0 or later'],
  ['gpl-3.0-only', 'GNU General Public License v3.0 only']
];

/** Legacy license ids and the id they stand for. */
export const LICENSE_ALIASES: Record<string, string> = {
  'cc-zero': 'cc0-1.0',
  'cc-by': 'cc-by-4.0',
  'cc-by-sa': 'cc-by-sa-4.0'
};

/** The license Zenodo gives an open upload without one. */
export function defaultLicense(uploadType: string): string {
  return uploadType === 'dataset' ? 'cc0-1.0' : 'cc-by-4.0';
}

/** The relations the form offers first (any of Zenodo's is accepted). */
export function relations(trans: TranslationBundle): Choices {
  return [
    ['isSupplementTo', trans.__('is supplement to')],
    ['isSupplementedBy', trans.__('is supplemented by')],
    ['cites', trans.__('cites')],
    ['isCitedBy', trans.__('is cited by')],
    ['isDocumentedBy', trans.__('is documented by')],
    ['isDerivedFrom', trans.__('is derived from')],
    ['isNewVersionOf', trans.__('is new version of')],
    ['references', trans.__('references')],
    ['isPartOf', trans.__('is part of')],
    ['hasPart', trans.__('has part')]
  ];
}

/** Contributor roles (DataCite's contributorType). */
export const CONTRIBUTOR_TYPES: readonly string[] = [
  'ContactPerson',
  'DataCollector',
  'DataCurator',
  'DataManager',
  'Distributor',
  'Editor',
  'HostingInstitution',
  'Producer',
  'ProjectLeader',
  'ProjectManager',
  'ProjectMember',
  'RegistrationAgency',
  'RegistrationAuthority',
  'RelatedPerson',
  'Researcher',
  'ResearchGroup',
  'RightsHolder',
  'Sponsor',
  'Supervisor',
  'Translator',
  'WorkPackageLeader',
  'Other'
];

/**
 * A title for a value of `choices`, else the value itself.
 */
export function titleOf(choices: Choices, value: string | undefined): string {
  if (!value) {
    return '';
  }
  return choices.find(([id]) => id === value)?.[1] ?? value;
}

/**
 * "Family, Given" from a display name ("Albert Einstein" → "Einstein, Albert");
 * a single word stays as it is.
 */
export function familyGiven(displayName: string): string {
  const name = displayName.trim().replace(/\s+/g, ' ');
  if (!name || name.includes(',')) {
    return name;
  }
  const space = name.lastIndexOf(' ');
  return space > 0 ? `${name.slice(space + 1)}, ${name.slice(0, space)}` : name;
}
