import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where deliveries may go (docs/webhooks.md, "Safety"): only public unicast addresses, unless the
 * deployment allows private targets. The check runs inside the socket's own DNS lookup, so the
 * connection goes to the very address that was checked: a name that resolves to a public address
 * for the check and to 127.0.0.1 for the connect (DNS rebinding) cannot slip through.
 */

/** ipaddr.js ranges that are fine to call; everything else (private, loopback, link-local, …) is refused. */
const PUBLIC_RANGES = new Set(['unicast']);

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return PUBLIC_RANGES.has(parsed.range());
}

export class TargetRefused extends Error {
  readonly code = 'DMN_WEBHOOK_URL_PRIVATE';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http.request that resolves, refuses non-public answers, and hands back only checked ones. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const refused = allowPrivate ? [] : list.filter((a) => !isPublicAddress(a.address));
      if (refused.length || !list.length) {
        // Any private answer refuses the name: a mixed answer is how rebinding attacks start.
        return callback(new TargetRefused(`${hostname} resolves to a non-public address (${refused.map((a) => a.address).join(', ') || 'none'})`), []);
      }
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** Checks a literal IP host at once (sockets skip the lookup for literals). Throws TargetRefused. */
export function assertLiteralAllowed(hostname: string, allowPrivate: boolean): void {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) && !allowPrivate && !isPublicAddress(bare)) throw new TargetRefused(`${bare} is not a public address`);
}

/** Resolves a URL's host now, as endpoint creation does, so an obviously private target is refused at once. */
export async function assertTargetAllowed(url: URL, allowPrivate: boolean): Promise<void> {
  assertLiteralAllowed(url.hostname, allowPrivate);
  if (allowPrivate || isIP(url.hostname.replace(/^\[|\]$/g, ''))) return;
  await new Promise<void>((resolve, reject) =>
    guardedLookup(false)(url.hostname, { all: true }, (err) => (err && err instanceof TargetRefused ? reject(err) : resolve())),
  );
}
