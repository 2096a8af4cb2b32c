/**
 * The HTTP handler every AWS SDK client of the process uses: loaded on first use (not at cold
 * start), over one pair of keep-alive agents, so all clients share one socket pool per host and
 * a warm request never pays a TCP or TLS handshake its predecessor already paid.
 */
import type { NodeHttpHandler, NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

/** Sockets per host: the SDK's own default, enough for a Lambda instance (one request at a time) and the local server. */
const MAX_SOCKETS_PER_HOST = 50;

let agents: Promise<{ http: HttpAgent; https: HttpsAgent }> | undefined;

const sharedAgents = () =>
  (agents ??= Promise.all([import('node:http'), import('node:https')]).then(([http, https]) => ({
    http: new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
    https: new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST }),
  })));

/** Loads `@smithy/node-http-handler` and builds a handler with `options` (timeouts in ms) over the shared agents. */
export async function loadHttpHandler(
  options: Omit<NodeHttpHandlerOptions, 'httpAgent' | 'httpsAgent'>,
): Promise<NodeHttpHandler> {
  const [{ NodeHttpHandler }, { http, https }] = await Promise.all([
    import('@smithy/node-http-handler'),
    sharedAgents(),
  ]);
  return new NodeHttpHandler({ ...options, httpAgent: http, httpsAgent: https });
}
