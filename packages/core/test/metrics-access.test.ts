import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../src/config.ts';
import { startTestGateway, type TestGateway } from '../src/testing/index.ts';

/** METRICS_TOKEN and METRICS_PORT: /metrics behind a bearer token, or on a listener of its own. */
const TOKEN = 'metrics-token-0123456789abcdef';
let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe('/metrics access', () => {
  it('is open when no token is set', async () => {
    t = await startTestGateway({ plugins: [], redis: false });
    const res = await t.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('doorman_http_requests_total');
  });

  it('asks for the bearer token when METRICS_TOKEN is set', async () => {
    t = await startTestGateway({ plugins: [], redis: false, gateway: { metricsToken: TOKEN } });
    for (const auth of [undefined, 'Bearer wrong-token', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`]) {
      const req = t.http.get('/metrics');
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="doorman-metrics"');
      expect(res.text).not.toContain('doorman_http_requests_total');
    }
    const ok = await t.http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('doorman_http_requests_total');
    // Health and readiness stay open for probes.
    expect((await t.http.get('/healthz')).status).toBe(200);
  });

  it('moves to METRICS_PORT, and the main port no longer serves it', async () => {
    const metricsPort = await freePort();
    t = await startTestGateway({ plugins: [], redis: false, gateway: { host: '127.0.0.1', port: 0, metricsPort, metricsToken: TOKEN } });
    const server = await t.gateway.listen();
    const main = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${main}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect((await fetch(`${main}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('doorman_http_requests_total');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
  });

  it('refuses a token shorter than 16 characters and port 0 at start-up', async () => {
    expect(parseGatewayConfig({ metricsToken: 'short', metricsPort: '0' }).problems).toEqual([
      'METRICS_TOKEN: must be at least 16 characters',
      expect.stringMatching(/^METRICS_PORT: /),
    ]);
  });
});
