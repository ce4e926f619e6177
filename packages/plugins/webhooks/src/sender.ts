import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { SECRET_PATTERN } from '@doorman/core';
import { assertLiteralAllowed, guardedLookup, TargetRefused } from './target.ts';

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  snippetBytes: number;
}

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  snippet: string | null;
}

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The `webhook-signature` header: one `v1,<base64>` per secret, space-separated (Standard Webhooks).
 * During a rotation's overlap both the new and the previous secret sign, so a receiver holding
 * either one verifies the delivery.
 */
export function signatureHeader(secrets: string[], msgId: string, timestamp: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(msgId, timestamp, body)).join(' ');
}

const SNIPPET_SECRETS = new RegExp(`${SECRET_PATTERN.source}|whsec_[A-Za-z0-9+/=]+|v1,[A-Za-z0-9+/=]{40,}`, 'g');

/** Response text for the log: bounded, secrets and echoed signatures masked. */
export const cleanSnippet = (text: string) => text.replace(SNIPPET_SECRETS, '[redacted]');

const agents = new Map<string, http.Agent>();
/**
 * Keep-alive agents whose sockets are opened through the guarded lookup: a reused socket is still
 * connected to an address that was checked when it was opened.
 */
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 64, lookup: guardedLookup(allowPrivate) as never };
    agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

/**
 * POSTs one signed delivery. Redirects are not followed (a 3xx is a failed attempt), the attempt has
 * one deadline covering connect, headers and body, and at most `snippetBytes` of the response are read.
 */
export function send(url: string, headers: Record<string, string>, body: string, o: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, 'latencyMs' | 'ok'>): SendResult => ({
    ...r,
    ok: r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300,
    latencyMs: Math.round(performance.now() - started),
  });
  let target: URL;
  try {
    target = new URL(url);
    assertLiteralAllowed(target.hostname, o.allowPrivate);
  } catch (err) {
    return Promise.resolve(done({ statusCode: null, error: describe(err), snippet: null }));
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, 'latencyMs' | 'ok'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(done(r));
    };
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'Doorman-Webhooks/1' },
        agent: agentFor(target.protocol, o.allowPrivate),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const end = (cutShort: boolean) => {
          const snippet = o.snippetBytes ? cleanSnippet(Buffer.concat(chunks).subarray(0, o.snippetBytes).toString('utf8')) : null;
          finish({ statusCode: res.statusCode ?? null, error: null, snippet });
          // Enough read: the rest of a large body is never downloaded (and that socket is not reused).
          if (cutShort) res.destroy();
        };
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (size > o.snippetBytes) end(true);
        });
        res.on('end', () => end(false));
        res.on('error', () => end(true));
      },
    );
    const deadline = setTimeout(() => {
      finish({ statusCode: null, error: `timed out after ${o.timeoutMs} ms`, snippet: null });
      req.destroy();
    }, o.timeoutMs);
    req.on('error', (err) => finish({ statusCode: null, error: describe(err), snippet: null }));
    req.end(body);
  });
}

function describe(err: unknown): string {
  if (err instanceof TargetRefused) return `DMN_WEBHOOK_URL_PRIVATE: ${err.message}`.slice(0, 255);
  const e = err as NodeJS.ErrnoException;
  return (e.code ? `${e.code}: ${e.message}` : String(e?.message ?? err)).slice(0, 255);
}
