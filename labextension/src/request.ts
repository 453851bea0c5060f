import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * URL namespace of the mesh_zenodo server extension.
 */
export const API_NAMESPACE = 'mesh-zenodo';

/**
 * A non-2xx answer of the server extension, keeping the parsed body.
 *
 * The session endpoint answers 401/503 with a JSON body that the UI shows,
 * so callers need more than the message of a plain `ResponseError`.
 */
export class APIError extends ServerConnection.ResponseError {
  constructor(
    response: Response,
    readonly body: unknown,
    message: string
  ) {
    super(response, message);
  }

  /**
   * The HTTP status code of the answer.
   */
  get status(): number {
    return this.response.status;
  }
}

/**
 * Call the mesh_zenodo server extension.
 *
 * Requests go through `ServerConnection.makeRequest`, so Jupyter's
 * authentication and XSRF headers are sent.
 *
 * @param endPoint Path below `<baseUrl>/mesh-zenodo/`
 * @param serverSettings The server settings to use
 * @param init Initial values for the request
 * @returns The JSON-decoded body (or the text when it is not JSON)
 * @throws {APIError} on a non-2xx answer
 * @throws {ServerConnection.NetworkError} when the server cannot be reached
 */
export async function requestAPI<T>(
  endPoint: string,
  serverSettings: ServerConnection.ISettings,
  init: RequestInit = {}
): Promise<T> {
  const url = URLExt.join(serverSettings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, serverSettings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  let data: any = text;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
  }

  if (!response.ok) {
    const message =
      (data && typeof data === 'object' && typeof data.message === 'string'
        ? data.message
        : '') ||
      (typeof data === 'string' && data) ||
      `HTTP ${response.status} ${response.statusText}`.trim();
    throw new APIError(response, data, message);
  }

  return data as T;
}
