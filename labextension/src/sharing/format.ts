import { TranslationBundle } from '@jupyterlab/translation';

import { IGrantee, LinkType, ReceivedState, Role } from './api';

/** The translated name of a role. */
export function roleLabel(role: Role, trans: TranslationBundle): string {
  switch (role) {
    case 'viewer':
      return trans.__('Can view');
    case 'editor':
      return trans.__('Can edit');
    case 'uploader':
      return trans.__('Can upload (file drop)');
    case 'manager':
      return trans.__('Can manage');
    default:
      return role;
  }
}

export function stateLabel(state: ReceivedState, trans: TranslationBundle): string {
  switch (state) {
    case 'pending':
      return trans.__('Pending');
    case 'accepted':
      return trans.__('Accepted');
    case 'rejected':
      return trans.__('Declined');
    default:
      return state;
  }
}

export function linkTypeLabel(type: LinkType, trans: TranslationBundle): string {
  switch (type) {
    case 'view':
      return trans.__('View');
    case 'upload':
      return trans.__('Upload');
    case 'edit':
      return trans.__('Edit');
    case 'filedrop':
      return trans.__('File drop');
    default:
      return type;
  }
}

/** "Marie Curie (marie)", or "physics-lovers (group)". */
export function granteeLabel(grantee: IGrantee, trans: TranslationBundle): string {
  const name = grantee.display_name || grantee.name;
  return grantee.type === 'group'
    ? trans.__('%1 (group)', name)
    : grantee.display_name && grantee.display_name !== grantee.name
      ? `${grantee.display_name} (${grantee.name})`
      : grantee.name;
}

export function formatDate(iso: string | null | undefined, trans: TranslationBundle): string {
  if (!iso) {
    return trans.__('never');
  }
  return new Date(iso).toLocaleDateString();
}

export function formatSize(size: number | null | undefined): string {
  if (size === null || size === undefined) {
    return '—';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A `<input type="date">` value (local day) as the end of that day, ISO. */
export function endOfDay(value: string): string | null {
  if (!value) {
    return null;
  }
  const date = new Date(`${value}T23:59:59`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An ISO time as a `<input type="date">` value (local day). */
export function dateInputValue(iso: string | null): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Tomorrow, as the earliest `<input type="date">` value an expiry may take. */
export function tomorrow(): string {
  const date = new Date();
  date.setDate(date.getDate() + 1);
  return dateInputValue(date.toISOString());
}
