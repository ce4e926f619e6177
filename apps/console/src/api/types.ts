/** Shapes of the admin API's answers the console reads, taken from the generated `schema.ts`. */
import type { paths } from './schema.ts';

type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;
/** The JSON of a route's success answer (200 or 201). */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R } ? JsonOf<R[(200 | 201) & keyof R]> : never;
/** A route's JSON request body. */
export type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

export type Org = Ok<'/orgs/{org}', 'get'>;
export type Team = Ok<'/orgs/{org}/teams', 'get'>['teams'][number];
export type Member = Ok<'/orgs/{org}/members', 'get'>['members'][number];
export type Connection = Ok<'/connections/{connectionId}', 'get'>;
export type Person = Ok<'/people/{person}', 'get'>;
export type PersonSummary = Ok<'/people', 'get'>['people'][number];
export type AuditEvent = Ok<'/audit', 'get'>['events'][number];
export type Health = Ok<'/health', 'get'>;
export type ActivityItem = Ok<'/connections/{connectionId}/activity', 'get'>['items'][number];
