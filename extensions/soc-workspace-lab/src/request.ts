/**
 * Calls to the extension's server part (`<base url>/soc-workspace-lab/...`) through
 * JupyterLab's ServerConnection, which adds the user's token or XSRF header.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { apiPath } from './apiPaths';

/** An answer of the server that is not a success: `message` says what to change. */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

async function send(
  endPoint: string,
  init: RequestInit,
  settings: ServerConnection.ISettings
): Promise<Response> {
  const url = URLExt.join(settings.baseUrl, apiPath(endPoint));
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text || response.statusText;
    try {
      message = JSON.parse(text).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new ServerError(response.status, message);
  }
  return response;
}

/** GET or POST an endpoint; the answer's JSON. */
export async function requestJSON<T>(
  endPoint: string,
  settings: ServerConnection.ISettings,
  init: RequestInit = {}
): Promise<T> {
  const response = await send(endPoint, init, settings);
  return (await response.json()) as T;
}

/** GET an endpoint that answers with an image or other bytes. */
export async function requestBlob(
  endPoint: string,
  settings: ServerConnection.ISettings
): Promise<Blob> {
  const response = await send(endPoint, {}, settings);
  return response.blob();
}
