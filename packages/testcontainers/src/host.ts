/**
 * Which address the lab's host ports are reached at. The ports are published on one
 * address (`withHostAddress`, default 127.0.0.1), so that address is the only one that
 * answers — whatever testcontainers guesses. Its guess (`getHost()`) depends on where the
 * test runs: `localhost` on a plain machine, but inside a container (a `/.dockerenv`) the
 * gateway of Docker's `bridge` network, e.g. 172.17.0.1, where a port bound to 127.0.0.1
 * refuses every connection. Only a wildcard publication (`0.0.0.0`, `::`: a remote Docker,
 * or tests in a sibling container) is reachable at the host testcontainers names.
 */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

export function connectHost(runtimeHost: string, hostAddress: string): string {
  return WILDCARDS.has(hostAddress) ? runtimeHost : hostAddress;
}
