/**
 * The console plugin's session routes (packages/plugins/console, docs/console.md), in the shape
 * openapi-typescript gives the admin API's routes. They are not admin routes (signing in happens
 * before there is any admin credential), so they are not in the admin API's OpenAPI document.
 */
/** An organization owner signed in through SSO: who, and the organizations they may manage. */
export interface OwnerInfo {
  userId: string;
  email: string | null;
  fullName: string | null;
  organizations: Array<{ id: string; name: string }>;
}

export interface SessionInfo {
  csrfToken: string;
  expiresInSeconds: number;
  /** The admin token that opened the session; null for an organization owner's session. */
  tokenId: string | null;
  /** Set for an organization owner's session (docs/console.md, "Organization owners"). */
  owner?: OwnerInfo | null;
  /** The deployment's PUBLIC_URL: the base of every URL an IdP admin pastes. */
  publicUrl: string;
}
interface ErrorBody {
  error: { code: string; message: string; field?: string };
}
type Json<T> = { headers: Record<string, unknown>; content: { 'application/json': T } };

export interface SessionPaths {
  '/session': {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    get: { parameters: { query?: never; header?: never; path?: never; cookie?: never }; requestBody?: never; responses: { 200: Json<SessionInfo>; 401: Json<ErrorBody> } };
    post: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody: { content: { 'application/json': { token: string } } };
      responses: { 201: Json<SessionInfo>; 400: Json<ErrorBody>; 401: Json<ErrorBody> };
    };
    delete: { parameters: { query?: never; header?: never; path?: never; cookie?: never }; requestBody?: never; responses: { 204: { headers: Record<string, unknown>; content?: never }; 403: Json<ErrorBody> } };
    put?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/session/sso': {
    parameters: { query?: never; header?: never; path?: never; cookie?: never };
    post: {
      parameters: { query?: never; header?: never; path?: never; cookie?: never };
      requestBody: { content: { 'application/json': Record<string, never> } };
      responses: { 201: Json<SessionInfo>; 401: Json<ErrorBody>; 403: Json<ErrorBody> };
    };
    get?: never;
    delete?: never;
    put?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
