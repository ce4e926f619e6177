import { randomInt, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { connectionDeleted, connectionUpdated, coreServices, definePlugin, type Actor, type DomainEvent, type Gateway } from '@doorman/core';
import type { TestGateway } from '@doorman/core/testing';
import { ScimTokenEntity, SsoConnectionEntity, type SsoConnection } from '@doorman/model';

/** Echoes what the authenticator attached, on every method, like a SCIM resource route would see it. */
export const echoPlugin = definePlugin({
  id: 'scim-echo',
  description: 'test routes answering with ctx.state.auth',
  deps: { http: coreServices.http },
  register({ http }) {
    const echo = (ctx: { state: Record<string, unknown>; body?: unknown; params: Record<string, string> }) => {
      ctx.body = { id: ctx.params.id, auth: ctx.state.auth, actor: ctx.state.actor };
    };
    http.scim.get('/Users/:id', echo);
    http.scim.post('/Users/:id', echo);
    http.scim.put('/Users/:id', echo);
    http.scim.patch('/Users/:id', echo);
    http.scim.delete('/Users/:id', echo);
  },
});

/** A random client address per test: the auth-failure counters live in the shared Redis. */
export const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

export async function createConnection(gateway: Gateway, overrides: Partial<SsoConnection> = {}): Promise<SsoConnection> {
  const connection: SsoConnection = {
    id: randomUUID(),
    name: `conn-${randomUUID().slice(0, 8)}`,
    type: 'saml',
    defaultOrgId: null,
    defaultTeam: null,
    jitEnabled: true,
    scimEnabled: true,
    idpSettings: {},
    rateLimitPerSecond: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...overrides,
  };
  await gateway.db.getRepository(SsoConnectionEntity).insert(connection);
  return connection;
}

export interface IssuedToken {
  id: string;
  token: string;
  prefix: string;
  expiresAt: string | null;
  [key: string]: unknown;
}

export async function issueToken(t: TestGateway, connectionId: string, body: Record<string, unknown> = {}): Promise<IssuedToken> {
  const res = await t.admin('post', `/admin/v1/connections/${connectionId}/scim-tokens`).send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as IssuedToken;
}

export const tokenRow = (gateway: Gateway, id: string) => gateway.db.getRepository(ScimTokenEntity).findOneByOrFail({ id });

/** Records every published domain event (with its actor) for assertions. */
export function recordEvents(gateway: Gateway) {
  const events: Array<{ actor: Actor; event: DomainEvent }> = [];
  gateway.events.subscribe(async (_tx, actor, event) => {
    events.push({ actor, event });
  });
  return events;
}

/** Publishes a connection event the way the admin plugin does, inside a transaction. */
export async function publishConnectionEvent(gateway: Gateway, event: typeof connectionUpdated | typeof connectionDeleted, connectionId: string, change: (tx: Parameters<Parameters<Gateway['transaction']>[0]>[0]) => Promise<unknown>) {
  await gateway.transaction(async (tx) => {
    await change(tx);
    await gateway.events.publish(tx, { type: 'admin_token', id: 'bootstrap', requestId: null }, event({ connectionId, target: { type: 'connection', id: connectionId } }));
  });
}
