/**
 * Organization owners sign in to the console through Doorman's own SSO (docs/console.md,
 * "Organization owners"): `GET /console/api/sso?email=` sends the browser to jit-provisioning's
 * `/sso/login`, which brings it back to the console page once signed in; the page then calls
 * `POST /console/api/session/sso`, which opens a console session for a person who owns an
 * organization. The console never imports jit-provisioning: it reads the SSO session through
 * `ssoIdentityRef`.
 */
import type { Context } from 'koa';
import { AuthenticationError, consoleSignedIn, consoleSignInDenied, defineError, InputError, type Database, type Events, type GatewaySettings, type PluginHttp, type SsoIdentityService, type TransactionRunner } from '@doorman/plugin-api';

/** What SSO sign-in needs of the console plugin's services. */
type SsoEnv = { db: Database; gateway: GatewaySettings; transaction: TransactionRunner; events: Events; sso: () => SsoIdentityService | undefined };
import { UserEntity, OrganizationEntity } from '@doorman/model';
import { In } from 'typeorm';
import type { ConsoleSessions, ValidSession } from './sessions.ts';

/** Where `/sso/login` returns: the console page, which finishes the sign-in with a same-origin POST. */
export const SSO_RETURN_PATH = '/console/?sso=return';

const SsoNotEnabled = defineError('DMN_CONSOLE_SSO_NOT_ENABLED', 404);
const NotAnOwner = defineError('DMN_CONSOLE_NOT_AN_OWNER', 403);
const CrossOrigin = defineError('DMN_CONSOLE_CROSS_ORIGIN', 403);

/** The origin this request reached (Koa 3's `ctx.origin` is the request's Origin header, not ours). */
export const ownOrigin = (ctx: Context) => `${ctx.protocol}://${ctx.host}`;

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

/** The owner part of the session JSON: who is signed in and which organizations they may manage. */
export async function ownerView(env: Pick<SsoEnv, 'db'>, session: ValidSession) {
  if (!session.owner) return null;
  const user = await env.db.getRepository(UserEntity).findOne({ where: { id: session.owner.userId }, select: { id: true, email: true, fullName: true } });
  const orgs = session.owner.orgIds.length ? await env.db.getRepository(OrganizationEntity).find({ where: { id: In(session.owner.orgIds) }, select: { id: true, name: true }, order: { name: 'ASC' } }) : [];
  return { userId: session.owner.userId, email: user?.email ?? null, fullName: user?.fullName ?? null, organizations: orgs.map((o) => ({ id: o.id, name: o.name })) };
}

export function registerSsoSignIn(env: SsoEnv, r: PluginHttp['public'], sessions: ConsoleSessions, respond: (ctx: Context, session: ValidSession, status: number) => Promise<void>) {
  const publicOrigin = new URL(env.gateway.publicUrl).origin;
  const identity = () => {
    const sso = env.sso();
    if (!sso) throw new SsoNotEnabled('SSO sign-in to the console needs the jit-provisioning plugin', { field: 'email' });
    return sso;
  };

  r.get('/console/api/sso', async (ctx) => {
    const email = typeof ctx.query.email === 'string' ? ctx.query.email.trim() : '';
    if (!EMAIL.test(email)) throw new InputError('email: enter the email address you sign in with', { field: 'email' });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(identity().loginPath(email, SSO_RETURN_PATH));
  });

  // A POST from the console page itself: the browser's Origin must be this deployment's (a form or
  // script on another site cannot open a session with the person's SSO cookie). SameSite=Lax keeps
  // the SSO cookie off other sites' POSTs too.
  r.post('/console/api/session/sso', async (ctx) => {
    const origin = ctx.get('origin');
    if (!origin || (origin !== publicOrigin && origin !== ownOrigin(ctx))) throw new CrossOrigin('sign-in must come from the console page itself', { field: 'Origin' });
    const signedIn = await identity().current(ctx);
    if (!signedIn) throw new AuthenticationError('not signed in through SSO, or the SSO session has ended: sign in again', { field: 'email' });
    const orgIds = await sessions.ownedOrgs(signedIn.userId);
    const actor = { type: 'sso_user' as const, id: signedIn.userId, requestId: ctx.state.requestId ?? null };
    if (!orgIds.length) {
      await env.transaction((tx) => env.events.publish(tx, actor, consoleSignInDenied({ connectionId: signedIn.connectionId, target: { type: 'user', id: signedIn.userId }, context: { reason: 'not_an_owner' } })));
      throw new NotAnOwner('the console is for organization owners: you do not own an organization here');
    }
    const { setCookie, session } = await sessions.open(null, { userId: signedIn.userId, ssoSessionId: signedIn.sessionId, orgIds });
    await env.transaction((tx) =>
      env.events.publish(tx, actor, consoleSignedIn({ connectionId: signedIn.connectionId, target: { type: 'user', id: signedIn.userId }, context: { organizations: orgIds } })),
    );
    ctx.append('Set-Cookie', setCookie);
    await respond(ctx, session, 201);
  });
}
