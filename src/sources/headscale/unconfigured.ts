import { HeadscaleError, type HeadscaleApi } from './types.js';

/** Stands in for the API client when HEADSCALE_API_KEY is unset, so commands answer with what to configure. */
export function unconfiguredHeadscale(): HeadscaleApi {
  const fail = async (): Promise<never> => {
    throw new HeadscaleError('unauthorized', 'HEADSCALE_API_KEY is not set: create one with `headscale apikeys create` and set HEADSCALE_API_KEY (or HEADSCALE_API_KEY_FILE)');
  };
  return {
    serverInfo: fail,
    health: fail,
    listNodes: fail,
    getNode: fail,
    deleteNode: fail,
    expireNode: fail,
    listUsers: fail,
    createPreAuthKey: fail,
    listPreAuthKeys: fail,
    expirePreAuthKey: fail,
  };
}
