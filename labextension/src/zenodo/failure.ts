import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { IFailureView } from '../feedback';
import { APIError } from '../request';

/**
 * Why a call of the Zenodo API failed, as the panel shows it.
 */
export interface IZenodoFailure {
  /** The server's message (shown as it is). */
  message: string;
  /** The error class the server named (`InvalidToken`, `RateLimited`...). */
  reason: string;
  /** HTTP status; 0 when the Jupyter server could not be reached. */
  status: number;
  /** Seconds Zenodo asked to wait (429). */
  retryAfter: number | null;
}

const NULL_TRANS = nullTranslator.load('mesh_zenodo');

/**
 * Whether `error` is an `IZenodoFailure`.
 */
export function isFailure(error: unknown): error is IZenodoFailure {
  return (
    !!error &&
    typeof error === 'object' &&
    typeof (error as IZenodoFailure).message === 'string' &&
    typeof (error as IZenodoFailure).status === 'number' &&
    'retryAfter' in (error as object)
  );
}

/**
 * Any error of a call as an `IZenodoFailure`.
 */
export function toFailure(
  error: unknown,
  trans: TranslationBundle = NULL_TRANS
): IZenodoFailure {
  if (isFailure(error)) {
    return error;
  }
  if (error instanceof APIError) {
    const body = error.body as {
      message?: unknown;
      reason?: unknown;
      retry_after?: unknown;
    } | null;
    const json = !!body && typeof body === 'object';
    const retry = Number(
      (json && body?.retry_after) ?? error.response.headers.get('Retry-After')
    );
    let message = error.message;
    if (!json && error.status === 404) {
      message = trans.__(
        'The Zenodo API of mesh-zenodo is not available on this Jupyter server.'
      );
    } else if (!json && /^\s*</.test(message)) {
      // an HTML error page: its text is noise for the user
      message = trans
        .__('The Jupyter server answered %1 %2', error.status, error.response.statusText)
        .trim();
    }
    return {
      message,
      reason: json && typeof body?.reason === 'string' ? body.reason : '',
      status: error.status,
      retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null
    };
  }
  if (error instanceof ServerConnection.NetworkError) {
    return {
      message: trans.__('The Jupyter server cannot be reached.'),
      reason: 'NetworkError',
      status: 0,
      retryAfter: null
    };
  }
  if (error instanceof DOMException && error.name === 'AbortError') {
    return { message: 'cancelled', reason: 'AbortError', status: 0, retryAfter: null };
  }
  return {
    message: error instanceof Error ? error.message : String(error),
    reason: '',
    status: 0,
    retryAfter: null
  };
}

/**
 * A short heading for a failure (the message itself comes from the server).
 */
export function failureTitle(
  failure: IZenodoFailure,
  trans: TranslationBundle = NULL_TRANS
): string {
  switch (failure.reason) {
    case 'InvalidToken':
      return trans.__('Invalid token');
    case 'MissingScope':
      return trans.__('The token lacks a scope');
    case 'RateLimited':
      return trans.__('Rate limited by Zenodo');
    case 'InvalidBaseURL':
      return trans.__('Invalid base URL');
    case 'Unreachable':
    case 'Timeout':
    case 'ServiceUnavailable':
    case 'TransferInterrupted':
      return trans.__('Zenodo is unreachable');
    case 'NotFound':
      return trans.__('Not found');
    case 'NetworkError':
      return trans.__('No connection to the Jupyter server');
    case 'BadRequest':
    case 'ValidationError':
      return trans.__('Zenodo refused the request');
  }
  switch (failure.status) {
    case 401:
      return trans.__('Invalid token');
    case 403:
      return trans.__('Permission denied');
    case 404:
      return trans.__('Not found');
    case 429:
      return trans.__('Rate limited by Zenodo');
    case 502:
    case 503:
    case 504:
      return trans.__('Zenodo is unreachable');
    case 0:
      return trans.__('Something went wrong');
  }
  return failure.status >= 500
    ? trans.__('Server error')
    : trans.__('Request refused');
}

/**
 * A failure as the error box shows it: `title` (else one for its reason),
 * the server's message, and how long Zenodo asks to wait.
 */
export function describeFailure(
  failure: IZenodoFailure,
  trans: TranslationBundle = NULL_TRANS,
  title?: string
): IFailureView {
  return {
    title: title ?? failureTitle(failure, trans),
    message: failure.message,
    hint:
      failure.retryAfter !== null
        ? trans.__(
            'Zenodo asks to wait %1 s before trying again.',
            Math.ceil(failure.retryAfter)
          )
        : null,
    reason: failure.reason
  };
}
