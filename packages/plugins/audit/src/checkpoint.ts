/**
 * Signed checkpoints of the audit chain heads (docs/audit-anchoring.md): the chain heads live in the
 * database, so someone with SQL access could rewrite a chain and recompute every hash and the head. A
 * checkpoint, signed with an Ed25519 key that is not in the database (AUDIT_CHECKPOINT_KEY) and kept
 * outside it (files in AUDIT_CHECKPOINT_DIR, written on a schedule), pins each chain's head at a moment:
 * later, the database must still hold an event with that chain_seq and that hash, on a chain that
 * verifies. A recomputed chain cannot match a checkpoint taken before the rewrite.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { canonicalJson, chainEvents, readHead, verifyChain, type VerifyOptions } from './chain.ts';
import { defineError } from '@doorman/plugin-api';

export const CHECKPOINT_FORMAT = 'doorman-audit-checkpoint/1';

const chainSchema = z.object({
  chainKey: z.string().min(1).max(64),
  lastSeq: z.number().int().min(0),
  lastChainSeq: z.number().int().min(0),
  lastHash: z.string().max(64).nullable(),
  purgedChainSeq: z.number().int().min(0),
});
export const checkpointSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    createdAt: z.string().max(40),
    /** SHA-256 (hex, first 16) of the signing key's SPKI DER: which key to verify with. */
    keyId: z.string().max(64),
    chains: z.array(chainSchema).max(1_000_000),
    /** Ed25519 signature (base64) over the canonical JSON of every field above. */
    signature: z.string().max(200),
  })
  .strict();
export type Checkpoint = z.infer<typeof checkpointSchema>;
export type CheckpointChain = z.infer<typeof chainSchema>;

/** What a key setting may hold: PEM, or the base64 of the DER (PKCS#8 for a private key, SPKI for a public one). */
const isPem = (t: string) => t.trim().startsWith('-----BEGIN');
const der = (t: string) => Buffer.from(t.replace(/\s+/g, ''), 'base64');

/** A checkpoint key that is not an Ed25519 key in a form Doorman reads (a setting at start-up, or `publicKey` of a verify request). */
export const CheckpointKeyInvalid = defineError('DMN_AUDIT_KEY_INVALID', 400);

/** An Ed25519 private key from AUDIT_CHECKPOINT_KEY (PKCS#8 PEM or base64 DER); throws a message naming what is wrong. */
export function parseSigningKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = isPem(text) ? createPrivateKey(text.trim()) : createPrivateKey({ key: der(text), format: 'der', type: 'pkcs8' });
  } catch {
    throw new CheckpointKeyInvalid('not a private key (PKCS#8 PEM, or its DER in base64): create one with `openssl genpkey -algorithm ed25519`');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new CheckpointKeyInvalid(`an ${key.asymmetricKeyType} key: checkpoints are signed with Ed25519 (\`openssl genpkey -algorithm ed25519\`)`);
  return key;
}

/** An Ed25519 public key (SPKI PEM or base64 DER), or the public half of a private key given instead. */
export function parseVerifyKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = /PRIVATE KEY/.test(text) ? createPublicKey(parseSigningKey(text)) : isPem(text) ? createPublicKey(text.trim()) : createPublicKey({ key: der(text), format: 'der', type: 'spki' });
  } catch (err) {
    throw new CheckpointKeyInvalid((err as Error).message.startsWith('an ') ? (err as Error).message : 'not a public key (SPKI PEM, or its DER in base64)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new CheckpointKeyInvalid(`an ${key.asymmetricKeyType} key: checkpoints are verified with Ed25519`);
  return key;
}

export const keyIdOf = (publicKey: KeyObject) => createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);

const signedBytes = (c: Omit<Checkpoint, 'signature'>) => Buffer.from(canonicalJson({ format: c.format, createdAt: c.createdAt, keyId: c.keyId, chains: c.chains }), 'utf8');

/** Reads every chain head and signs them (seal first, so the checkpoint covers what has committed). */
export async function createCheckpoint(db: DataSource, signingKey: KeyObject, now: Date): Promise<Checkpoint> {
  const rows: Array<Record<string, unknown>> = await db.query(
    'SELECT chain_key AS chainKey, last_seq AS lastSeq, last_chain_seq AS lastChainSeq, last_hash AS lastHash, purged_chain_seq AS purgedChainSeq FROM audit_chain_heads ORDER BY chain_key',
  );
  const body = {
    format: CHECKPOINT_FORMAT,
    createdAt: now.toISOString(),
    keyId: keyIdOf(createPublicKey(signingKey)),
    chains: rows.map((r) => ({
      chainKey: String(r.chainKey),
      lastSeq: Number(r.lastSeq),
      lastChainSeq: Number(r.lastChainSeq),
      lastHash: (r.lastHash as string | null) ?? null,
      purgedChainSeq: Number(r.purgedChainSeq),
    })),
  } as const;
  return { ...body, signature: sign(null, signedBytes(body), signingKey).toString('base64') };
}

/** Writes `audit-checkpoint-<time>.json` into `dir` (created if missing), atomically: a reader never sees half a file. */
export async function writeCheckpointFile(dir: string, checkpoint: Checkpoint): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `audit-checkpoint-${checkpoint.createdAt.replace(/[:.]/g, '-')}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(checkpoint, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
  return file;
}

export type ChainCheck = { chainKey: string; status: 'ok' | 'purged'; lastChainSeq: number } | { chainKey: string; status: 'broken'; lastChainSeq: number; reason: string };
export interface CheckpointResult {
  ok: boolean;
  checkpoint: { createdAt: string | null; keyId: string | null };
  /** Why the checkpoint itself was refused (unreadable, bad signature); per-chain reasons are in `chains`. */
  reason?: string;
  chains: ChainCheck[];
}

const orgOf = (chainKey: string): string | null | undefined => (chainKey === 'deployment' ? null : chainKey.startsWith('org:') ? chainKey.slice(4) : undefined);

/**
 * Checks a checkpoint against the database, trusting nothing the database says about its own heads:
 * 1. the Ed25519 signature, with `publicKey`;
 * 2. each chain of the checkpoint verifies today (verifyChain, with the HMAC key when given);
 * 3. the database still holds that chain's event at the checkpoint's chain_seq, with the checkpoint's
 *    hash (unless retention has purged past it: reported `purged`).
 * Because each hash covers the previous one, (3) pins every event up to the checkpoint.
 */
export async function verifyCheckpoint(db: DataSource, raw: unknown, publicKey: KeyObject, options: VerifyOptions = {}): Promise<CheckpointResult> {
  const parsed = checkpointSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, checkpoint: { createdAt: null, keyId: null }, reason: `not a Doorman audit checkpoint (${issue?.path.join('.') || 'document'}: ${issue?.message})`, chains: [] };
  }
  const cp = parsed.data;
  const meta = { createdAt: cp.createdAt, keyId: cp.keyId };
  const { signature, ...body } = cp;
  if (!verify(null, signedBytes(body), publicKey, Buffer.from(signature, 'base64'))) {
    const other = cp.keyId !== keyIdOf(publicKey) ? ` (it names key ${cp.keyId}; the key given is ${keyIdOf(publicKey)})` : '';
    return { ok: false, checkpoint: meta, reason: `the checkpoint's signature does not verify: the file was altered or signed with another key${other}`, chains: [] };
  }
  const chains: ChainCheck[] = [];
  for (const c of cp.chains) {
    const orgId = orgOf(c.chainKey);
    const broken = (reason: string) => chains.push({ chainKey: c.chainKey, status: 'broken', lastChainSeq: c.lastChainSeq, reason });
    if (orgId === undefined) {
      broken(`unknown chain key '${c.chainKey}'`);
      continue;
    }
    const head = await readHead(db, c.chainKey);
    if (!head) {
      if (c.lastChainSeq > 0) broken('the chain head is gone from the database: the chain was deleted');
      else chains.push({ chainKey: c.chainKey, status: 'ok', lastChainSeq: 0 });
      continue;
    }
    const today = await verifyChain(db, orgId, options);
    if (!today.ok) {
      broken(`the chain does not verify today: ${today.reason} (seq ${today.brokenAtSeq})`);
      continue;
    }
    if (c.lastChainSeq === 0) {
      chains.push({ chainKey: c.chainKey, status: 'ok', lastChainSeq: 0 });
      continue;
    }
    if (head.lastChainSeq < c.lastChainSeq) {
      broken(`the chain ends at chain_seq ${head.lastChainSeq}, before the checkpoint's ${c.lastChainSeq}: events were removed and the head rewritten`);
      continue;
    }
    if (head.purgedChainSeq >= c.lastChainSeq) {
      chains.push({ chainKey: c.chainKey, status: 'purged', lastChainSeq: c.lastChainSeq });
      continue;
    }
    const [event] = await chainEvents(db, orgId).andWhere('e.chainSeq = :n', { n: c.lastChainSeq }).limit(1).getMany();
    if (!event) broken(`no event at chain_seq ${c.lastChainSeq}: it was removed`);
    else if (event.hash !== c.lastHash) broken(`the event at chain_seq ${c.lastChainSeq} (seq ${event.seq}) has another hash than at the checkpoint: the chain was rewritten and its hashes recomputed`);
    else chains.push({ chainKey: c.chainKey, status: 'ok', lastChainSeq: c.lastChainSeq });
  }
  return { ok: chains.every((c) => c.status !== 'broken'), checkpoint: meta, chains };
}
