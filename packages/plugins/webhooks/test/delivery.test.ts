import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@doorman/core';
import { testEvent, type TestGateway } from '@doorman/core/testing';
import { countRows, createEndpoint, personChange, Receiver, startHarness, waitFor } from './helpers.ts';

let t: TestGateway;
const published: DomainEvent[] = [];
beforeAll(async () => {
  t = await startHarness({ disableAfterDeadLetters: '2' });
  t.gateway.events.subscribe(async (_tx, _actor, event) => void published.push(event));
});
afterAll(async () => t?.close());

/** Each test its own receiver and endpoint; older endpoints are switched off so they do not interfere. */
async function fresh(body: Record<string, unknown> = {}) {
  for (const ep of (await t.admin('get', '/admin/v1/webhooks')).body.endpoints) {
    if (ep.enabled) await t.admin('patch', `/admin/v1/webhooks/${ep.id}`).send({ enabled: false }).expect(200);
  }
  const receiver = await new Receiver().start();
  const endpoint = await createEndpoint(t, { url: receiver.url, ...body });
  return { receiver, endpoint };
}

describe('signed deliveries', () => {
  it('delivers each change signed per Standard Webhooks, with a stable id, sequence and no secrets', async () => {
    const { receiver, endpoint } = await fresh();
    try {
      expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      const person = randomUUID();
      await personChange(t.gateway, person, 'user.created', {
        userName: { after: 'ada@example.com' },
        apiToken: { after: 'should-not-leave' },
        note: { after: `dmn_scim_0123456789ab_${'A'.repeat(43)}` },
      });
      await personChange(t.gateway, person, 'user.deactivated', { active: { before: true, after: false } });
      await waitFor(() => receiver.received.length === 2, 'two deliveries');
      for (const r of receiver.received) expect(Receiver.verify(endpoint.secret, r)).toBeTruthy();
      const [first, second] = receiver.received;
      expect(first!.headers['webhook-id']).toBe(first!.payload.data.id);
      expect(first!.payload).toMatchObject({ type: 'person.created', data: { type: 'person.created', subject: { type: 'person', id: person }, sequence: 1, changes: { userName: { after: 'ada@example.com' } } } });
      expect(second!.payload).toMatchObject({ type: 'person.deactivated', data: { sequence: 2 } });
      expect(first!.body).not.toMatch(/should-not-leave|dmn_scim/);
      // A tampered body does not verify.
      expect(() => Receiver.verify(endpoint.secret, { ...first!, body: first!.body.replace('ada', 'eve') })).toThrow();
      // Actions that are not published (tokens, audit) make no delivery.
      await t.gateway.transaction((tx) => t.gateway.events.publish(tx, { type: 'system', id: null, requestId: null }, testEvent({ action: 'token.issued', target: { type: 'token', id: 'x' } })));
      await personChange(t.gateway, person, 'user.deleted');
      await waitFor(() => receiver.received.length === 3, 'third delivery');
      expect(receiver.received[2]!.payload).toMatchObject({ type: 'person.deleted', data: { sequence: 3 } });
    } finally {
      await receiver.close();
    }
  });

  it('retries after 500s and timeouts, and logs every attempt with status, latency and a snippet', async () => {
    const { receiver, endpoint } = await fresh();
    try {
      receiver.respond = async (_r, n) => {
        if (n === 1) return 500;
        if (n === 2) await new Promise((resolve) => setTimeout(resolve, 1500)); // past the 1 s timeout
        return 200;
      };
      await personChange(t.gateway, randomUUID());
      await waitFor(async () => (await countRows(t, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'delivered'", [endpoint.id])) === 1, 'delivered');
      expect(receiver.firstReceipts()).toHaveLength(1);
      expect(receiver.received.length).toBe(3);
      const log = (await t.admin('get', `/admin/v1/webhooks/${endpoint.id}/deliveries`).expect(200)).body;
      expect(log.deliveries).toHaveLength(1);
      expect(log.deliveries[0]).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, eventType: 'person.updated' });
      const one = (await t.admin('get', `/admin/v1/webhook-deliveries/${log.deliveries[0].id}`).expect(200)).body;
      expect(one.attemptLog.map((a: { statusCode: number | null }) => a.statusCode)).toEqual([500, null, 200]);
      expect(one.attemptLog[0]).toMatchObject({ attempt: 1, responseSnippet: 'status 500' });
      expect(one.attemptLog[1].error).toMatch(/timed out/);
      expect(one.attemptLog[1].latencyMs).toBeGreaterThanOrEqual(900);
    } finally {
      await receiver.close();
    }
  });

  it('signs with both secrets during a rotation overlap, then with the new one only', async () => {
    const { receiver, endpoint } = await fresh();
    try {
      const rotated = (await t.admin('post', `/admin/v1/webhooks/${endpoint.id}/rotate-secret`).send({ overlapMinutes: 60 }).expect(200)).body;
      expect(rotated.secret).not.toBe(endpoint.secret);
      expect((await t.admin('get', `/admin/v1/webhooks/${endpoint.id}`).expect(200)).body).not.toHaveProperty('secret');
      await personChange(t.gateway, randomUUID());
      await waitFor(() => receiver.received.length === 1, 'delivery during overlap');
      expect(String(receiver.received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(Receiver.verify(endpoint.secret, receiver.received[0]!)).toBeTruthy();
      expect(Receiver.verify(rotated.secret, receiver.received[0]!)).toBeTruthy();

      const again = (await t.admin('post', `/admin/v1/webhooks/${endpoint.id}/rotate-secret`).send({ overlapMinutes: 0 }).expect(200)).body;
      await personChange(t.gateway, randomUUID());
      await waitFor(() => receiver.received.length === 2, 'delivery after overlap');
      expect(Receiver.verify(again.secret, receiver.received[1]!)).toBeTruthy();
      expect(() => Receiver.verify(rotated.secret, receiver.received[1]!)).toThrow();
    } finally {
      await receiver.close();
    }
  });

  it('dead-letters after the last attempt, disables an endpoint that keeps failing with an audit event, and re-sends on re-enable', async () => {
    const { receiver, endpoint } = await fresh();
    try {
      receiver.respond = () => 500;
      await personChange(t.gateway, randomUUID());
      await personChange(t.gateway, randomUUID());
      await waitFor(async () => !(await t.admin('get', `/admin/v1/webhooks/${endpoint.id}`)).body.enabled, 'endpoint disabled');
      const view = (await t.admin('get', `/admin/v1/webhooks/${endpoint.id}`)).body;
      expect(view).toMatchObject({ enabled: false, consecutiveDeadLetters: 2, disabledReason: expect.stringMatching(/2 deliveries in a row/) });
      expect(published).toContainEqual(expect.objectContaining({ action: 'webhook_endpoint.disabled', target: { type: 'webhook_endpoint', id: endpoint.id } }));
      const dead = (await t.admin('get', `/admin/v1/webhooks/${endpoint.id}/deliveries?status=dead`).expect(200)).body.deliveries;
      expect(dead).toHaveLength(2);
      expect(dead[0].attempts).toBe(3);

      // Changes while disabled make no delivery to it.
      await personChange(t.gateway, randomUUID());
      expect(await countRows(t, 'SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?', [endpoint.id])).toBe(2);

      // Manual redelivery once it works again.
      receiver.respond = () => 204;
      await t.admin('patch', `/admin/v1/webhooks/${endpoint.id}`).send({ enabled: true }).expect(200);
      const before = receiver.received.length;
      const again = (await t.admin('post', `/admin/v1/webhook-deliveries/${dead[0].id}/redeliver`).expect(201)).body;
      expect(again).toMatchObject({ kind: 'redelivery', eventId: dead[0].eventId });
      await waitFor(() => receiver.received.length === before + 1, 'redelivered');
      expect(receiver.received.at(-1)!.payload.data.id).toBe(dead[0].eventId);
    } finally {
      await receiver.close();
    }
  });
});

describe('order', () => {
  let o: TestGateway;
  beforeAll(async () => {
    // Room for a first delivery that keeps failing until the other person's change has arrived.
    o = await startHarness({ maxAttempts: '12', backoffMs: '100' });
  });
  afterAll(async () => o?.close());

  it('keeps each person in order per endpoint while other people go ahead', async () => {
    const receiver = await new Receiver().start();
    try {
      await createEndpoint(o, { url: receiver.url });
      const slow = randomUUID();
      const other = randomUUID();
      // The slow person's first change fails until the other person's change has been received.
      receiver.respond = (r) => (r.payload.data.subject.id === slow && r.payload.data.sequence === 1 && !receiver.received.some((x) => x.payload.data.subject.id === other) ? 503 : 204);
      for (let i = 0; i < 5; i++) await personChange(o.gateway, slow);
      await personChange(o.gateway, other);
      await waitFor(() => receiver.firstReceipts().filter((r) => r.payload.data.subject.id === slow).length === 5, 'all five of the slow person');
      const seqs = receiver.firstReceipts().filter((r) => r.payload.data.subject.id === slow).map((r) => r.payload.data.sequence);
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
      // Nothing after the first was sent while it was failing, and the other person went ahead meanwhile.
      const firstOk = receiver.received.findIndex((r) => r.payload.data.subject.id === slow && r.payload.data.sequence === 1 && receiver.received.some((x, i) => i < receiver.received.indexOf(r) && x.payload.data.subject.id === other));
      const laterAt = receiver.received.findIndex((r) => r.payload.data.subject.id === slow && r.payload.data.sequence > 1);
      expect(firstOk).toBeGreaterThan(0);
      expect(laterAt).toBeGreaterThan(firstOk);
    } finally {
      await receiver.close();
    }
  });
});
