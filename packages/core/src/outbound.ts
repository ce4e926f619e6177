import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { defineError, RuntimeError } from '@doorman/plugin-api';

/**
 * Requests Doorman makes to URLs an admin typed (webhook deliveries, IdP metadata): only public
 * unicast addresses, unless the deployment allows private ones (docs/outbound-requests.md). The check
 * runs inside the socket's own DNS lookup, so the connection goes to the very address that was
 * checked: a name that resolves to a public address for the check and to 127.0.0.1 for the connect
 * (DNS rebinding) cannot slip through.
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

/** The target resolves to (or is) an address outbound requests may not go to. */
export const TargetRefused = defineError('DMN_OUTBOUND_TARGET_PRIVATE', 500);

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

/** Resolves a URL's host now, so an obviously private target is refused when it is saved. */
export async function assertTargetAllowed(url: URL, allowPrivate: boolean): Promise<void> {
  assertLiteralAllowed(url.hostname, allowPrivate);
  if (allowPrivate || isIP(url.hostname.replace(/^\[|\]$/g, ''))) return;
  await new Promise<void>((resolve, reject) =>
    guardedLookup(false)(url.hostname, { all: true }, (err) => (err && err instanceof TargetRefused ? reject(err) : resolve())),
  );
}

/** Why an outbound GET gave no document (the message is safe to show an admin: no response body). */
export class OutboundFetchError extends RuntimeError {
  readonly code: string = 'DMN_OUTBOUND_FETCH_FAILED';
  constructor(
    message: string,
    readonly reason: 'refused' | 'redirect' | 'status' | 'too_large' | 'timeout' | 'network' | 'scheme',
  ) {
    super(message);
  }
}

export interface OutboundGetOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  maxBytes: number;
  accept?: string;
  userAgent?: string;
}

/**
 * GETs a small document from an admin-given URL: http(s) only, public addresses only (unless
 * allowed), redirects not followed (a 3xx is refused: it could point anywhere), one deadline for
 * connect, headers and body, and at most `maxBytes` read.
 */
export function outboundGet(url: string, o: OutboundGetOptions): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new OutboundFetchError('not a URL', 'scheme'));
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return Promise.reject(new OutboundFetchError('only http:// and https:// URLs are fetched', 'scheme'));
  if (target.username || target.password) return Promise.reject(new OutboundFetchError('a URL with credentials is refused', 'scheme'));
  try {
    assertLiteralAllowed(target.hostname, o.allowPrivate);
  } catch (err) {
    return Promise.reject(new OutboundFetchError((err as Error).message, 'refused'));
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: OutboundFetchError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      reject(err);
    };
    const req = client.request(
      target,
      { method: 'GET', headers: { accept: o.accept ?? '*/*', 'user-agent': o.userAgent ?? 'Doorman/1' }, lookup: guardedLookup(o.allowPrivate) as never, agent: false },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) return fail(new OutboundFetchError(`the server answered ${status} (a redirect, which is not followed): use the final URL`, 'redirect'));
        if (status !== 200) return fail(new OutboundFetchError(`the server answered ${status}`, 'status'));
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > o.maxBytes) return fail(new OutboundFetchError(`the document is larger than ${o.maxBytes} bytes`, 'too_large'));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > o.maxBytes) return fail(new OutboundFetchError(`the document is larger than ${o.maxBytes} bytes`, 'too_large'));
          chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', (err) => fail(new OutboundFetchError(err.message, 'network')));
      },
    );
    const deadline = setTimeout(() => fail(new OutboundFetchError(`no complete answer within ${o.timeoutMs} ms`, 'timeout')), o.timeoutMs);
    req.on('error', (err) => fail(err instanceof TargetRefused ? new OutboundFetchError(err.message, 'refused') : new OutboundFetchError((err as NodeJS.ErrnoException).code ?? err.message, 'network')));
    req.end();
  });
}
