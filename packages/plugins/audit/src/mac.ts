/**
 * Per-event HMAC (docs/audit-anchoring.md). The producer writes each event with
 * `mac = HMAC-SHA256(AUDIT_HMAC_KEY, canonical event)` — a key that lives in the deployment's settings,
 * never in the database — so an event edited (or forged) with SQL access before the sealer links it into
 * its chain no longer matches its MAC: the sealer refuses to link it and verification reports it. The MAC
 * covers what the hash covers except `prev_hash` (unknown at write time). Pure: no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '@doorman/model';
import { canonicalJson, eventFields, hasLinks } from './chain.ts';

export type MacFields = Pick<AuditEvent, 'id' | 'occurredAt' | 'orgId' | 'connectionId' | 'actorType' | 'actorId' | 'requestId' | 'action' | 'targetType' | 'targetId' | 'changes' | 'jobId' | 'causeId' | 'context'>;

/** The HMAC key from the setting's text (the text itself is the key material; ≥ 32 characters by the schema). */
export const macKeyOf = (setting: string): Buffer => Buffer.from(setting, 'utf8');

/** HMAC-SHA256 (hex) over a versioned canonical serialization of the event (changes as stored: JSON round trip). */
export function macEvent(key: Buffer, e: MacFields): string {
  const changes = e.changes === null || e.changes === undefined ? null : JSON.parse(JSON.stringify(e.changes));
  const payload = canonicalJson([hasLinks(e) ? 'doorman-audit-mac/2' : 'doorman-audit-mac/1', ...eventFields(e, changes)]);
  return createHmac('sha256', key).update(payload, 'utf8').digest('hex');
}

export type MacCheck = 'ok' | 'missing' | 'mismatch';

/** Whether a stored event still matches its MAC. */
export function checkMac(key: Buffer, e: MacFields & { mac?: string | null }): MacCheck {
  if (!e.mac) return 'missing';
  const expected = Buffer.from(macEvent(key, e));
  const given = Buffer.from(e.mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? 'ok' : 'mismatch';
}
