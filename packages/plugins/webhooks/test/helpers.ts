import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import type { DomainEvent, Gateway } from '@doorman/core';
import { startTestGateway, testEvent, type TestGateway } from '@doorman/core/testing';
import { startTestJobRuntime } from '@doorman/jobs/testing';
import { webhooksPlugin } from '../src/index.ts';
import { TEST_SETTINGS } from './settings.ts';

export { TEST_SETTINGS };

export async function startHarness(settings: Record<string, string> = {}, options: { jobs?: boolean } = {}): Promise<TestGateway> {
  return startTestGateway({
    plugins: [webhooksPlugin],
    pluginSettings: { webhooks: { ...TEST_SETTINGS, ...settings } },
    afterBuild: options.jobs === false ? undefined : (g) => startTestJobRuntime(g, { prefixTag: 'webhooks-test' }),
  });
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  payload: { type: string; timestamp: string; data: { id: string; type: string; subject: { type: string; id: string }; sequence: number; [k: string]: unknown } };
  at: number;
}

/** A real HTTP server on loopback that records what it receives; `respond` decides each answer. */
export class Receiver {
  readonly received: Received[] = [];
  respond: (r: Received, n: number) => Promise<number> | number = () => 204;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const r: Received = { headers: req.headers, body, payload: JSON.parse(body), at: Date.now() };
        this.received.push(r);
        try {
          const status = await this.respond(r, this.received.length);
          res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
        } catch {
          res.destroy();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
    return this;
  }

  /** Verifies a delivery with the standardwebhooks package's own verifier; throws when it does not verify. */
  static verify(secret: string, r: Received): unknown {
    return new Webhook(secret).verify(r.body, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    });
  }

  /** Distinct event ids received, in order of first receipt. */
  firstReceipts(): Received[] {
    const seen = new Set<string>();
    return this.received.filter((r) => !seen.has(r.payload.data.id) && seen.add(r.payload.data.id));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A provisioning change about a person, published in its own transaction like a SCIM write. */
export function personChange(gateway: Gateway, personId: string, action = 'user.updated', changes: DomainEvent['changes'] = { displayName: { after: randomUUID() } }) {
  return gateway.transaction((tx) => gateway.events.publish(tx, { type: 'scim_token', id: 'token-1', requestId: null }, testEvent({ action, connectionId: null, orgId: null, target: { type: 'user', id: personId }, changes })));
}

export async function createEndpoint(t: TestGateway, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await t.admin('post', '/admin/v1/webhooks').send(body);
  if (res.status !== 201) throw new Error(`endpoint not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls until `check` holds; the limit only stops a broken test from hanging. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, limitMs = 30_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`gave up waiting for: ${what}`);
    await delay(25);
  }
}

export const countRows = async (t: TestGateway, sql: string, params: unknown[] = []) => Number((await t.gateway.db.query(sql, params))[0].n);
