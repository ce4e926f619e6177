// The runtime re-exports the contract, so `@doorman/core` imports keep working; plugins import
// contract things from @doorman/plugin-api (docs/architecture.md "Contract and runtime").
import './runtime-types.ts';
export * from '@doorman/plugin-api';
export type { AdminRequestState, HttpSurface, RequestState, ScimRequestState, ScimRouteContext } from './plugin.ts';
export * from './resolve.ts';
export * from './config.ts';
export * from './events.ts';
export * from './jobs.ts';
export * from './db.ts';
export * from './secrets.ts';
export * from './gateway.ts';
export { isScimRequest, toDoormanError } from './http/error-middleware.ts';
export type { AdminAuthState, AdminChallenge, OwnerAuthState } from './http/admin-auth.ts';
export { verifyAdminToken } from './http/admin-auth.ts';
export { connectionOrgIds, ownerOrgIds, OwnerOutOfScope, OwnerRefused, scopeAllows, type AdminRouteScope } from './scope.ts';
export { clearedCookieHeader, readCookie, sessionCookieHeader, type CookieOptions } from './http/cookies.ts';
export { jsonBodyMiddleware, parseJsonBody, RequestBodyError, type BodyLimits, type BodyErrorCode } from './http/body.ts';
export { findConnectionId, findOrgId, isUuid, resolveFilterRef } from './lookup.ts';
export * from './admin-routes.ts';
export { ADMIN_API_PREFIX, adminErrorSchema, buildOpenApiDocument, documentResponseChecker, type OpenApiDocument } from './openapi.ts';
export { createLogger, loggerOptions, serializeError, scrubErrorText, wantsPrettyLogs, type LogSettings } from './logging.ts';
export * from './group-commit.ts';
export { afterCommit, beforeCommit, inTransaction, transactionBuffer, type TransactionBuffer } from './commit-hooks.ts';
export { assertLiteralAllowed, assertTargetAllowed, guardedLookup, isPublicAddress, OutboundFetchError, outboundGet, TargetRefused, type OutboundGetOptions } from './outbound.ts';
export { redactDetail, requestValues, routePattern } from './http/refusal.ts';
export { mountScimResourceReads, SCIM_CONTENT_TYPE, type ScimPage, type ScimResourceReads, type ScimResourceResponder } from './http/scim-resource-routes.ts';
