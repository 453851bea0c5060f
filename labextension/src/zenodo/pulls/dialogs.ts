import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { h } from '../../dom';
import { IRecordDetails, OnConflict } from '../api';
import { PullManager, PullTask } from './model';
import { pickFolder } from './picker';

/** The actions of the name-clash dialog's buttons. */
const RENAME = 'rename';
const OVERWRITE = 'overwrite';

/**
 * Ask for a folder on the storage (our folder picker over the default drive,
 * i.e. the CS3 storage), then pull `keys` (all files when null).
 */
export async function pickAndPull(
  manager: PullManager,
  docManager: IDocumentManager,
  trans: TranslationBundle,
  record: IRecordDetails,
  keys: string[] | null
): Promise<PullTask | null> {
  const label =
    keys && keys.length === 1
      ? trans.__('Choose the folder of your ScienceMesh storage to save “%1” in.', keys[0])
      : trans.__(
          'Choose the folder of your ScienceMesh storage to save the %1 files of the record in.',
          record.files.length
        );
  const path = await pickFolder({
    contents: docManager.services.contents,
    title: keys ? trans.__('Download to…') : trans.__('Download all to…'),
    label,
    path: manager.lastDestination,
    trans
  });
  if (path === null) {
    return null;
  }
  return manager.pull(record, keys, path);
}

/**
 * Name clash: a Lab dialog asks whether to keep both, replace or skip.
 */
export function conflictResolver(
  trans: TranslationBundle
): (task: PullTask, names: string[]) => Promise<OnConflict> {
  return async (task, names) => {
    const shown = names.slice(0, 8);
    const body = h(
      'div',
      { className: 'mz-PullConflict', testid: 'mz-zenodo-conflict' },
      h(
        'p',
        {},
        names.length === 1
          ? trans.__('%1 already exists in %2.', names[0], task.displayDestination)
          : trans.__('%1 files already exist in %2:', names.length, task.displayDestination)
      ),
      names.length > 1 &&
        h(
          'ul',
          { className: 'mz-PullConflict-names' },
          ...shown.map(name => h('li', {}, name)),
          names.length > shown.length &&
            h('li', {}, trans.__('and %1 more', names.length - shown.length))
        ),
      h(
        'p',
        { className: 'mz-Form-help' },
        trans.__(
          'Keep both saves the Zenodo file under a new name, such as “data (1).csv”. ' +
            'Replace moves the existing file to the recycle bin. Skip leaves it as it is.'
        )
      )
    );
    const result = await showDialog({
      title:
        names.length === 1
          ? trans.__('A file with that name exists')
          : trans.__('Files with these names exist'),
      body: new Widget({ node: body }),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Skip'), className: 'mz-PullConflict-skip' }),
        Dialog.warnButton({
          label: trans.__('Replace'),
          className: 'mz-PullConflict-replace',
          actions: [OVERWRITE]
        }),
        Dialog.okButton({
          label: trans.__('Keep both (rename)'),
          className: 'mz-PullConflict-rename',
          actions: [RENAME]
        })
      ],
      defaultButton: 2
    });
    const actions = result.button.actions;
    if (actions.includes(RENAME)) {
      return 'rename';
    }
    if (actions.includes(OVERWRITE)) {
      return 'overwrite';
    }
    return 'skip';
  };
}
