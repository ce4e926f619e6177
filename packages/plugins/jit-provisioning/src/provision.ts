/**
 * What a verified sign-in does to the data (docs/docker-behaviour.md §2.7), in ONE transaction: account
 * found by email or created, role mapping applied (JIT on), the session row, and the domain events.
 * A refusal throws SignInDenied and the transaction rolls back: nothing provisioned.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { DoormanError, jitProvisioned, ssoSignedIn, ssoSignInDenied, type Actor } from '@doorman/plugin-api';
import type { JitEnv } from './deps.ts';
import {
  AccountEmailTaken,
  ConnectionOrgEntity,
  insertAccount,
  ConnectionUserEntity,
  OrgMembershipEntity,
  SsoSessionEntity,
  UserEntity,
  type SsoConnection,
  type User,
} from '@doorman/model';
import type { Identity } from './attributes.ts';
import { deprovisionedFor } from './deprovisioning.ts';
import { denials, SignInDenied } from './errors.ts';

export interface SignInResult {
  user: Pick<User, 'id' | 'email' | 'username' | 'fullName'>;
  sessionId: string;
  expiresAt: Date;
  /** First provisioning of this person through this connection. */
  firstTime: boolean;
  accountCreated: boolean;
}

export interface SignInRequest {
  connection: SsoConnection;
  identity: Identity;
  requestId: string;
  sessionMinutes: number;
  protocol: 'saml' | 'oidc';
}

type Deps = Pick<JitEnv, 'transaction' | 'events' | 'clock' | 'roleMapping'>;

/** Runs the sign-in; a concurrent first sign-in of the same email retries once and finds the account. */
export async function signIn(deps: Deps, request: SignInRequest): Promise<SignInResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.transaction((tx) => signInTx(deps, tx, request));
    } catch (err) {
      if (err instanceof AccountEmailTaken && attempt < 3) continue;
      throw err;
    }
  }
}

async function signInTx(deps: Deps, tx: EntityManager, request: SignInRequest): Promise<SignInResult> {
  const { connection, identity, requestId } = request;
  const emailLc = identity.email.toLowerCase();
  const users = tx.getRepository(UserEntity);

  let user = await users.findOne({ where: { emailLc }, lock: { mode: 'pessimistic_write' } });
  const scimRow = user ? await tx.getRepository(ConnectionUserEntity).findOne({ where: { connectionId: connection.id, userId: user.id } }) : null;
  // A person SCIM deactivated stays out: signing in must not bring them back.
  if (scimRow && !scimRow.active) throw denials.deactivated(identity.email, requestId);
  // ...nor through another connection into an organization a SCIM connection deprovisioned them from
  // (docs/org-wide-deprovisioning.md), until that connection reactivates them.
  const deprovisioned = user ? await deprovisionedFor(tx, user.id, connection.id) : null;
  if (deprovisioned) throw denials.deprovisioned(identity.email, deprovisioned, requestId);

  const servedOrgIds = (await tx.getRepository(ConnectionOrgEntity).find({ where: { connectionId: connection.id } })).map((o) => o.orgId);
  const memberships = user && servedOrgIds.length ? await tx.getRepository(OrgMembershipEntity).find({ where: { userId: user.id, orgId: In(servedOrgIds) } }) : [];
  const firstTime = !scimRow && !memberships.some((m) => m.connectionId === connection.id);

  let accountCreated = false;
  if (!connection.jitEnabled) {
    // JIT off: the person must already be a member of an organization the connection serves, or
    // provisioned by SCIM. No account is created and no membership is written.
    if (!user || (!scimRow && memberships.length === 0)) throw denials.notAssigned(identity.email, requestId);
  } else {
    if (!user) {
      user = await insertAccount(tx, { email: identity.email, fullName: identity.fullName, now: deps.clock.now() });
      accountCreated = true;
    } else if (identity.fullName && identity.fullName !== user.fullName) {
      // "uses the existing account and updates the user's full name if necessary"
      await users.update({ id: user.id }, { fullName: identity.fullName });
      user.fullName = identity.fullName;
    }
  }

  const actor: Actor = { type: 'sso_user', id: user!.id, requestId };
  const u = user!;
  let changes = 0;
  if (connection.jitEnabled) {
    try {
      const summary = await deps.roleMapping.apply(tx, {
        connectionId: connection.id,
        userId: u.id,
        attributes: identity.attributes,
        flow: 'jit',
        firstTime,
        // A new account holds nothing yet: role mapping then reads and locks none of it (docs/row-ids.md, "Locks").
        accountCreated,
        actor,
      });
      changes = summary.changes.length;
    } catch (err) {
      if (err instanceof DoormanError && (err.status === 400 || err.status === 403)) throw denials.mappingRefused(err, requestId);
      throw err;
    }
  }

  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + request.sessionMinutes * 60_000);
  const sessionId = randomUUID();
  await tx.getRepository(SsoSessionEntity).insert({ id: sessionId, userId: u.id, connectionId: connection.id, expiresAt, endedAt: null });

  const target = { type: 'user', id: u.id };
  if (connection.jitEnabled && (firstTime || accountCreated)) {
    await deps.events.publish(tx, actor, jitProvisioned({
      orgId: connection.defaultOrgId,
      connectionId: connection.id,
      target,
      changes: { accountCreated: { after: accountCreated }, firstTime: { after: firstTime }, membershipChanges: { after: changes } },
    }));
  }
  await deps.events.publish(tx, actor, ssoSignedIn({
    orgId: connection.defaultOrgId,
    connectionId: connection.id,
    target,
    changes: { protocol: { after: request.protocol }, sessionId: { after: sessionId }, expiresAt: { after: expiresAt.toISOString() } },
  }));
  return { user: { id: u.id, email: u.email, username: u.username, fullName: u.fullName }, sessionId, expiresAt, firstTime, accountCreated };
}

/** Publishes `sso.sign_in_denied` in its own transaction (the refused one rolled back). Never the assertion. */
export async function recordDenial(
  deps: Pick<JitEnv, 'transaction' | 'events' | 'logger'>,
  denial: SignInDenied,
  context: { connectionId: string | null; orgId: string | null; email: string | null; requestId: string; protocol: 'saml' | 'oidc' | null },
): Promise<void> {
  try {
    await deps.transaction((tx) =>
      deps.events.publish(tx, { type: 'system', id: null, requestId: context.requestId }, ssoSignInDenied({
        orgId: context.orgId,
        connectionId: context.connectionId,
        target: context.email ? { type: 'email', id: context.email } : null,
        changes: { reason: { after: denial.reason }, ...(context.protocol ? { protocol: { after: context.protocol } } : {}) },
        // Why, for explain (docs/people-and-explain.md): the refusal as the person saw it, and the field it names
        // (e.g. dockerOrg: an organization the connection does not serve). Never the assertion.
        context: { reason: denial.reason, status: denial.error.status, field: denial.error.field ?? null, detail: denial.error.message.replace(/ TraceID: \S+$/, '') },
      })),
    );
  } catch (err) {
    // The refusal itself stands; losing its event is logged, not turned into a 500.
    deps.logger.warn({ err: (err as Error).message, reason: denial.reason }, 'could not record sso.sign_in_denied');
  }
}
