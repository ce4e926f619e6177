import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { TestGateway } from '@doorman/core/testing';
import { countRows, createEndpoint, personChange, Receiver, startHarness, waitFor } from './helpers.ts';

describe('targets refused unless private targets are allowed', () => {
  let t: TestGateway;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startHarness({ allowPrivateTargets: 'false', maxAttempts: '1' });
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  it.each([
    ['http://127.0.0.1:9/hook'],
    ['http://localhost:9/hook'],
    ['http://[::1]:9/hook'],
    ['http://169.254.169.254/latest/meta-data'],
    ['http://10.0.0.7/hook'],
    ['http://[::ffff:192.168.0.1]/hook'],
  ])('%s is refused at creation with a 400 naming url', async (url) => {
    const res = await t.admin('post', '/admin/v1/webhooks').send({ url }).expect(400);
    expect(res.body.error).toMatchObject({ code: 'DMN_WEBHOOK_URL_PRIVATE', field: 'url', message: expect.stringMatching(/WEBHOOKS_ALLOW_PRIVATE_TARGETS/) });
  });

  it.each([
    [{ url: 'ftp://example.com/x' }, 'url'],
    [{ url: 'https://user:pw@example.com/x' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'https://example.com/x', eventTypes: ['person.exploded'] }, 'eventTypes.0'],
    [{ url: 'https://example.com/x', enabled: 'yes' }, 'enabled'],
    [{ url: 'https://example.com/x', colour: 'red' }, 'colour'],
  ])('%j is a 400 naming %s', async (body, field) => {
    const res = await t.admin('post', '/admin/v1/webhooks').send(body).expect(400);
    expect(res.body.error.field).toBe(field);
    expect(await countRows(t, 'SELECT COUNT(*) AS n FROM webhook_endpoints')).toBe(0);
  });

  it('refuses at delivery time a name that now resolves to a loopback address (checked in the socket lookup)', async () => {
    // As if DNS changed after creation: the row is written directly, past the creation-time check.
    const id = randomUUID();
    const port = new URL(receiver.url).port;
    await t.gateway.db.query(
      "INSERT INTO webhook_endpoints (id, url, enabled, secret, consecutive_dead, created_at, updated_at) VALUES (?, ?, 1, 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=', 0, '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
      [id, `http://localhost:${port}/hook`],
    );
    await personChange(t.gateway, randomUUID());
    await waitFor(async () => (await countRows(t, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'dead'", [id])) === 1, 'dead-lettered');
    const [attempt] = await t.gateway.db.query('SELECT status_code, error FROM webhook_attempts WHERE endpoint_id = ?', [id]);
    expect(attempt).toMatchObject({ status_code: null, error: expect.stringMatching(/^DMN_WEBHOOK_URL_PRIVATE: localhost resolves to a non-public address/) });
    expect(receiver.received).toHaveLength(0);
  });
});

describe('responses', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startHarness({ maxAttempts: '1', responseSnippetBytes: '16' });
  });
  afterAll(async () => t?.close());

  it('does not follow redirects, and keeps only a bounded snippet of the body', async () => {
    const target = await new Receiver().start();
    const { createServer } = await import('node:http');
    const big = 'x'.repeat(1_000_000);
    let bodyBytesSent = 0;
    const redirector = createServer((req, res) => {
      req.resume();
      if (req.url === '/big') {
        res.writeHead(200);
        res.write(big, () => (bodyBytesSent += big.length));
        return;
      }
      res.writeHead(302, { location: target.url }).end('moved');
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(redirector.address() as { port: number }).port}`;
    try {
      const moved = await createEndpoint(t, { url: `${base}/moved` });
      await personChange(t.gateway, randomUUID());
      await waitFor(async () => (await countRows(t, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'dead'", [moved.id])) === 1, 'redirect attempt dead');
      expect(target.received).toHaveLength(0);
      const [attempt] = await t.gateway.db.query('SELECT status_code FROM webhook_attempts WHERE endpoint_id = ?', [moved.id]);
      expect(attempt.status_code).toBe(302);

      await t.admin('patch', `/admin/v1/webhooks/${moved.id}`).send({ enabled: false }).expect(200);
      const bigOne = await createEndpoint(t, { url: `${base}/big` });
      await personChange(t.gateway, randomUUID());
      await waitFor(async () => (await countRows(t, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'delivered'", [bigOne.id])) === 1, 'big response delivered');
      const [bigAttempt] = await t.gateway.db.query('SELECT response_snippet FROM webhook_attempts WHERE endpoint_id = ?', [bigOne.id]);
      expect(bigAttempt.response_snippet).toBe('x'.repeat(16));
    } finally {
      redirector.closeAllConnections();
      await new Promise((resolve) => redirector.close(resolve));
      await target.close();
    }
  });

  it('holds deliveries while an endpoint is switched off and sends them when it is switched back on', async () => {
    const receiver = await new Receiver().start();
    try {
      for (const ep of (await t.admin('get', '/admin/v1/webhooks')).body.endpoints) await t.admin('patch', `/admin/v1/webhooks/${ep.id}`).send({ enabled: false });
      const endpoint = await createEndpoint(t, { url: receiver.url });
      // A delivery left pending when the endpoint was switched off mid-retry (written directly).
      await t.gateway.db.query('UPDATE webhook_endpoints SET enabled = 0 WHERE id = ?', [endpoint.id]);
      const person = randomUUID();
      await personChange(t.gateway, person);
      const [event] = await t.gateway.db.query('SELECT id, subject_seq FROM webhook_events WHERE subject_id = ?', [person]);
      await t.gateway.db.query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, subject_key, subject_seq, kind, status, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'event', 'pending', 1, '2025-01-01 00:00:00', '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
        [randomUUID(), endpoint.id, event.id, `person:${person}`, event.subject_seq],
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.received).toHaveLength(0);
      await t.admin('patch', `/admin/v1/webhooks/${endpoint.id}`).send({ enabled: true }).expect(200);
      await waitFor(() => receiver.received.length === 1, 'sent after re-enabling');
    } finally {
      await receiver.close();
    }
  });
});
