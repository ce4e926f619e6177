/**
 * The chain anchored by keys outside the database (docs/audit-anchoring.md): a per-event HMAC
 * (AUDIT_HMAC_KEY) makes an edit before sealing fail verification and stops the sealer there; signed
 * checkpoints (AUDIT_CHECKPOINT_KEY) pin the chain heads, so a chain rewritten and recomputed in SQL
 * fails verification against a checkpoint taken before.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { AuditEventEntity, type JsonDocument } from '@doorman/model';
import { hashEvent } from '../src/chain.ts';
import { createCheckpoint, parseSigningKey, verifyCheckpoint } from '../src/checkpoint.ts';
import { auditPlugin } from '../src/index.ts';
import { checkMac, macEvent, macKeyOf } from '../src/mac.ts';
import { producerPlugin, sealerOf } from './helpers.ts';

const HMAC_KEY = 'audit-hmac-key-for-tests-0123456789abcdef';
const ed = () => generateKeyPairSync('ed25519');
const signing = ed();
const PRIVATE_PEM = signing.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PUBLIC_PEM = signing.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const dir = mkdtempSync(join(tmpdir(), 'doorman-checkpoints-'));

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    plugins: [auditPlugin, producerPlugin],
    redis: false,
    pluginSettings: { audit: { sealIntervalMs: '0', hmacKey: HMAC_KEY, checkpointKey: PRIVATE_PEM, checkpointDir: dir } },
  });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const db = () => t.gateway.db;
const publish = (orgId: string, action = 'member.added', changes: Record<string, unknown> = { role: { after: 'member' } }) =>
  t.admin('post', '/admin/v1/producer/events').send({ orgId, action, target: { type: 'user', id: randomUUID() }, changes }).expect(204);
const eventsOf = (orgId: string) => db().getRepository(AuditEventEntity).find({ where: { orgId }, order: { seq: 'ASC' } });
const verifyApi = (body: Record<string, unknown>) => t.admin('post', '/admin/v1/audit/verify').send(body);

describe('per-event HMAC', () => {
  it('is written with every event and verifies', async () => {
    const orgId = randomUUID();
    await publish(orgId);
    const [e] = await eventsOf(orgId);
    expect(e!.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(checkMac(macKeyOf(HMAC_KEY), e!)).toBe('ok');
    const res = await verifyApi({ orgId });
    expect(res.body).toMatchObject({ ok: true, checked: 1, macChecked: true });
  });

  it.each([
    ['changes edited', "UPDATE audit_events SET changes = '{\"role\":{\"after\":\"owner\"}}' WHERE seq = ?"],
    ['actor edited', "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = ?"],
    ['MAC removed', 'UPDATE audit_events SET mac = NULL WHERE seq = ?'],
    ['MAC of another event copied', 'UPDATE audit_events SET mac = (SELECT m FROM (SELECT mac AS m FROM audit_events WHERE seq < ? AND mac IS NOT NULL ORDER BY seq DESC LIMIT 1) x) WHERE seq = ?'],
  ])('an unsealed event tampered via SQL (%s) fails verification, and the sealer does not link it or anything after it', async (_name, sql) => {
    const orgId = randomUUID();
    await publish(orgId);
    await sealerOf(t).sealChain(orgId); // one good sealed event first
    await publish(orgId);
    await publish(orgId);
    const [, target] = await eventsOf(orgId);
    await db().query(sql, sql.split('?').length - 1 === 2 ? [target!.seq, target!.seq] : [target!.seq]);

    const res = await verifyApi({ orgId }); // seals what it can first
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: false, brokenAtSeq: Number(target!.seq), macChecked: true });
    expect(res.body.reason).toMatch(/HMAC/);
    const after = await eventsOf(orgId);
    expect(after.map((e) => e.chainSeq === null ? null : Number(e.chainSeq))).toEqual([1, null, null]);
    expect(t.logs.join('\n')).toMatch(new RegExp(`audit sealer: event seq ${target!.seq} (has no HMAC|does not match its HMAC)`));
  });

  it('catches a sealed event edited with its chain recomputed (hashes match, the HMAC does not)', async () => {
    const orgId = randomUUID();
    for (let i = 0; i < 3; i++) await publish(orgId);
    await sealerOf(t).sealChain(orgId);
    await recomputeChainAfterEdit(orgId, 1, { role: { after: 'owner' } });
    const res = await verifyApi({ orgId });
    expect(res.body).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match its HMAC/) });
  });
});

/** What someone with SQL access but no key can do: edit event `index` of the chain, recompute every hash after it and the head. */
async function recomputeChainAfterEdit(orgId: string, index: number, changes: JsonDocument, dropMacs = false) {
  const events = await eventsOf(orgId);
  let prevHash = index === 0 ? null : events[index - 1]!.hash;
  for (let i = index; i < events.length; i++) {
    const e = { ...events[i]!, ...(i === index ? { changes } : {}), prevHash };
    const hash = hashEvent(e);
    await db().query(`UPDATE audit_events SET changes = ?, prev_hash = ?, hash = ?${dropMacs ? ', mac = NULL' : ''} WHERE seq = ?`, [JSON.stringify(e.changes), prevHash, hash, e.seq]);
    prevHash = hash;
  }
  if (dropMacs) await db().query('UPDATE audit_events SET mac = NULL WHERE org_id = ?', [orgId]);
  await db().query('UPDATE audit_chain_heads SET last_hash = ? WHERE chain_key = ?', [prevHash, `org:${orgId}`]);
}

describe('signed checkpoints', () => {
  it('POST /audit/checkpoints seals, signs every head and writes the file; it verifies offline with the public key', async () => {
    const orgId = randomUUID();
    await publish(orgId);
    await publish(orgId);
    const res = await t.admin('post', '/admin/v1/audit/checkpoints');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ format: 'doorman-audit-checkpoint/1', keyId: expect.stringMatching(/^[0-9a-f]{16}$/), signature: expect.any(String) });
    expect(res.body.chains).toContainEqual(expect.objectContaining({ chainKey: `org:${orgId}`, lastChainSeq: 2 }));
    const file = String(res.headers['x-checkpoint-file']);
    expect(readdirSync(dir)).toContain(file.split('/').pop());
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text)).toEqual(res.body);

    // As the CLI sends it (`audit verify --checkpoint <file> --public-key <file>`): the file's text.
    // (Chains other tests tampered with are reported broken in the same answer: only this one is looked at.)
    const ok = await verifyApi({ checkpoint: text, publicKey: PUBLIC_PEM });
    expect(ok.status).toBe(200);
    expect(ok.body.reason, JSON.stringify(ok.body)).toBeUndefined();
    expect(ok.body.chains).toContainEqual({ chainKey: `org:${orgId}`, status: 'ok', lastChainSeq: 2 });
    // Without a public key, the configured key's public half verifies it.
    expect((await verifyApi({ checkpoint: res.body })).body.chains).toContainEqual({ chainKey: `org:${orgId}`, status: 'ok', lastChainSeq: 2 });
  });

  it('a chain rewritten and recomputed in SQL (MACs dropped, head moved) passes plain verification but fails against an earlier checkpoint', async () => {
    const orgId = randomUUID();
    for (let i = 0; i < 4; i++) await publish(orgId);
    await sealerOf(t).sealChain(orgId);
    const checkpoint = await createCheckpoint(db(), parseSigningKey(PRIVATE_PEM), new Date());
    await publish(orgId); // the chain grows after the checkpoint: still fine
    await sealerOf(t).sealChain(orgId);
    expect((await verifyApi({ checkpoint })).body.chains).toContainEqual({ chainKey: `org:${orgId}`, status: 'ok', lastChainSeq: 4 });

    // Edit event 2, recompute the hashes after it and the head, and drop every MAC (so the chain looks
    // like one written before the key): the database alone cannot tell.
    await recomputeChainAfterEdit(orgId, 1, { role: { after: 'owner' } }, true);
    expect((await verifyApi({ orgId })).body).toMatchObject({ ok: true });
    const res = await verifyApi({ checkpoint, publicKey: PUBLIC_PEM });
    expect(res.body.ok).toBe(false);
    expect(res.body.chains).toContainEqual(
      expect.objectContaining({ chainKey: `org:${orgId}`, status: 'broken', reason: expect.stringMatching(/has another hash than at the checkpoint: the chain was rewritten/) }),
    );
  });

  it('refuses an altered checkpoint, one signed by another key, and a document that is not one', async () => {
    const checkpoint = (await t.admin('post', '/admin/v1/audit/checkpoints')).body;
    const altered = { ...checkpoint, chains: checkpoint.chains.map((c: { lastHash: string | null }, i: number) => (i === 0 ? { ...c, lastHash: 'f'.repeat(64) } : c)) };
    const a = await verifyApi({ checkpoint: altered });
    expect(a.body).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not verify/) });
    const other = ed().publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const b = await verifyApi({ checkpoint, publicKey: other });
    expect(b.body).toMatchObject({ ok: false, reason: expect.stringMatching(/signature does not verify.*it names key/) });
    expect((await verifyApi({ checkpoint: { hello: 'world' } })).body).toMatchObject({ ok: false, reason: expect.stringMatching(/not a Doorman audit checkpoint/) });
    const bad = await verifyApi({ checkpoint: 'not json' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('checkpoint');
    const badKey = await verifyApi({ checkpoint, publicKey: 'nope' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.field).toBe('publicKey');
  });

  it('the scheduled job writes a checkpoint file', async () => {
    const before = readdirSync(dir).length;
    const job = t.gateway.jobs.definitions.get('audit/export-checkpoint')!;
    const result = (await job.process({}, { id: 'j', attemptsMade: 0, logger: t.gateway.logger, updateProgress: async () => undefined })) as { file: string };
    expect(readdirSync(dir).length).toBe(before + 1);
    const checkpoint = JSON.parse(readFileSync(result.file, 'utf8'));
    const verified = await verifyCheckpoint(db(), checkpoint, signing.publicKey);
    expect(verified.reason).toBeUndefined(); // the signature holds; chains tampered by earlier tests are reported per chain
    expect(verified.chains.length).toBe(checkpoint.chains.length);
    expect(t.gateway.jobs.schedules.map((s) => s.id)).toContain('audit-export-checkpoint');
  });
});

describe('settings', () => {
  it('macEvent is stable over a JSON round trip of changes', () => {
    const key = macKeyOf(HMAC_KEY);
    const e = { id: 'x', occurredAt: new Date(0), orgId: null, connectionId: null, actorType: 'system' as const, actorId: null, requestId: null, action: 'a', targetType: null, targetId: null, changes: { b: { after: 1 }, a: { before: 'x' } } };
    expect(macEvent(key, e)).toBe(macEvent(key, { ...e, changes: JSON.parse(JSON.stringify({ a: { before: 'x' }, b: { after: 1 } })) }));
    expect(macEvent(macKeyOf(`${HMAC_KEY}!`), e)).not.toBe(macEvent(key, e));
  });

  it('production requires AUDIT_HMAC_KEY; bad keys are refused at start-up naming the setting', async () => {
    const env = { config: { sealIntervalMs: 0 }, gateway: { mode: 'production' }, logger: t.gateway.logger } as unknown as Parameters<typeof auditPlugin.register>[0];
    expect(() => auditPlugin.register(env)).toThrow(/AUDIT_HMAC_KEY: required in production mode/);
    const schema = auditPlugin.configSchema!;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    for (const [settings, path, message] of [
      [{ hmacKey: 'short' }, 'hmacKey', /at least 32/],
      [{ checkpointKey: 'garbage' }, 'checkpointKey', /not a private key/],
      [{ checkpointKey: rsa }, 'checkpointKey', /rsa key: checkpoints are signed with Ed25519/],
      [{ checkpointPublicKey: 'garbage' }, 'checkpointPublicKey', /not a public key/],
    ] as const) {
      const r = schema.safeParse(settings);
      expect(r.success).toBe(false);
      if (!r.success) {
        expect(r.error.issues[0]!.path).toEqual([path]);
        expect(r.error.issues[0]!.message).toMatch(message);
      }
    }
  });
});
