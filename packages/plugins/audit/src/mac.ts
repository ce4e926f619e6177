/**
 * Per-event HMAC (docs/audit-anchoring.md). The producer writes each event with
 * `mac = HMAC-SHA256(AUDIT_HMAC_KEY, canonical event)` — a key that lives in the deployment's settings,
 * never in the database — so an event edited (or forged) with SQL access before the sealer links it into
 * its chain no longer matches its MAC: the sealer refuses to link it and verification reports it. The MAC
 * covers what the hash covers except `prev_hash` (unknown at write time). Pure: no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '@doorman/model';
import { canonicalJson, eventFields, hashFormat, hasLinks, sha256Hex, type HashedFields } from './chain.ts';

export type MacFields = Pick<AuditEvent, 'id' | 'occurredAt' | 'orgId' | 'connectionId' | 'actorType' | 'actorId' | 'requestId' | 'action' | 'targetType' | 'targetId' | 'changes' | 'jobId' | 'causeId' | 'context'>;

/** The HMAC key from the setting's text (the text itself is the key material; ≥ 32 characters by the schema). */
export const macKeyOf = (setting: string): Buffer => Buffer.from(setting, 'utf8');

/** The MAC's format tag: version 2 covers the causal links (job, cause, context). */
const macFormat = (e: MacFields) => (hasLinks(e) ? 'doorman-audit-mac/2' : 'doorman-audit-mac/1');

const hmacHex = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload, 'utf8').digest('hex');

/** HMAC-SHA256 (hex) over a versioned canonical serialization of the event (changes as stored: JSON round trip). */
export function macEvent(key: Buffer, e: MacFields): string {
  const changes = e.changes === null || e.changes === undefined ? null : JSON.parse(JSON.stringify(e.changes));
  return hmacHex(key, canonicalJson([macFormat(e), ...eventFields(e, changes)]));
}

export type MacCheck = 'ok' | 'missing' | 'mismatch';

/** Whether a stored event still matches its MAC. */
export function checkMac(key: Buffer, e: MacFields & { mac?: string | null }): MacCheck {
  return compareMac(macEvent(key, e), e.mac);
}

function compareMac(computed: string, stored: string | null | undefined): MacCheck {
  if (!stored) return 'missing';
  const expected = Buffer.from(computed);
  const given = Buffer.from(stored);
  return expected.length === given.length && timingSafeEqual(expected, given) ? 'ok' : 'mismatch';
}

/**
 * The sealer's two digests of a STORED event (a row read back from the database) with its fields
 * serialized once instead of twice: its MAC check and its chain hash given the previous hash. The bytes
 * are `checkMac`'s and `hashEvent`'s: a row read back holds JSON-parsed `changes` and `context`, which the
 * MAC's JSON round trip leaves as they are, so the MAC's field list and the hash's serialize alike
 * (test/seal-digests.test.ts). Not for an event about to be written: its values may not be JSON-clean.
 */
export function storedEventDigests(e: Omit<HashedFields, 'prevHash'>): { checkMac(key: Buffer): MacCheck; hash(prevHash: string | null): string } {
  // canonicalJson of a list is `[` + its items' serializations joined by `,` + `]`: the fields' middle is shared.
  const fields = canonicalJson(eventFields(e, e.changes ?? null)).slice(1, -1);
  return {
    checkMac: (key) => compareMac(hmacHex(key, `[${canonicalJson(macFormat(e))},${fields}]`), e.mac),
    hash: (prevHash) => sha256Hex(`[${canonicalJson(hashFormat(e))},${fields},${canonicalJson(prevHash ?? null)}]`),
  };
}
