import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { defineError, NotFoundError, webhookEndpointCreated, webhookEndpointDeleted, webhookEndpointSecretRotated, webhookEndpointUpdated, type Actor, type Events, type TransactionRunner } from '@doorman/plugin-api';
import { WebhookEndpointEntity, type WebhookEndpoint, newRowId } from '@doorman/model';
import type { WebhooksConfig } from './config.ts';
import { newSecret } from './sender.ts';
import { assertTargetAllowed, TargetRefused } from './target.ts';
import { isEventTypeFilter } from './types.ts';

const url = z
  .string()
  .max(2048)
  .refine((s) => URL.canParse(s), { message: 'an absolute http(s) URL', abort: true })
  .refine((s) => /^https?:$/.test(new URL(s).protocol), { message: 'must use http or https' })
  .refine((s) => !new URL(s).username && !new URL(s).password, { message: 'must not carry credentials; use the signing secret' });
const eventTypes = z
  .array(z.string().refine(isEventTypeFilter, { message: 'an event type such as person.created, or a family such as person.*' }))
  .max(50)
  .nullable();

export const createSchema = z
  .object({
    url,
    eventTypes: eventTypes.optional(),
    orgId: z.string().min(1).max(36).nullable().optional(),
    enabled: z.boolean().default(true),
    description: z.string().max(255).nullable().optional(),
  })
  .strict();
export const updateSchema = createSchema.partial().omit({ enabled: true }).extend({ enabled: z.boolean().optional() }).strict();
export const rotateSchema = z.object({ overlapMinutes: z.number().int().min(0).max(10_080).optional() }).strict();

/** 400: the endpoint's URL resolves to an address deliveries may not go to (docs/webhooks.md, "Safety"). */
export const PrivateTargetError = defineError('DMN_WEBHOOK_URL_PRIVATE', 400);

/** What the API shows of an endpoint: never its secrets. */
export function toView(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    orgId: e.orgId,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    consecutiveDeadLetters: e.consecutiveDead,
    previousSecretExpiresAt: e.previousSecret && e.previousSecretExpiresAt ? new Date(e.previousSecretExpiresAt).toISOString() : null,
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
  };
}

/** A URL as audit events show it: no query string or fragment (they may carry tokens). */
const auditUrl = (u: string) => {
  const parsed = new URL(u);
  return `${parsed.origin}${parsed.pathname}`;
};

export interface EndpointDeps {
  transaction: TransactionRunner;
  events: Events;
  clock: { now(): Date };
  config: WebhooksConfig;
}

/** Endpoint management behind the admin API (docs/webhooks.md, "Endpoints"). */
export class EndpointService {
  constructor(private readonly deps: EndpointDeps) {}

  private async checkTarget(u: string) {
    try {
      await assertTargetAllowed(new URL(u), this.deps.config.allowPrivateTargets);
    } catch (err) {
      if (err instanceof TargetRefused) {
        throw new PrivateTargetError(`url: ${err.message}; set WEBHOOKS_ALLOW_PRIVATE_TARGETS=true to allow private targets`, { field: 'url', cause: err });
      }
      throw err;
    }
  }

  private async find(tx: EntityManager, id: string): Promise<WebhookEndpoint> {
    const found = await tx.getRepository(WebhookEndpointEntity).findOneBy({ id });
    if (!found) throw new NotFoundError(`webhook endpoint ${id} not found`);
    return found;
  }

  async get(tx: EntityManager, id: string) {
    return toView(await this.find(tx, id));
  }

  async list(tx: EntityManager) {
    const rows = await tx.getRepository(WebhookEndpointEntity).find({ order: { createdAt: 'ASC' } });
    return { endpoints: rows.map(toView) };
  }

  async create(actor: Actor, input: z.output<typeof createSchema>) {
    await this.checkTarget(input.url);
    const now = this.deps.clock.now();
    const endpoint: WebhookEndpoint = {
      id: newRowId(),
      url: input.url,
      description: input.description ?? null,
      eventTypes: input.eventTypes?.length ? input.eventTypes : null,
      orgId: input.orgId ?? null,
      enabled: input.enabled,
      secret: newSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      consecutiveDead: 0,
      disabledReason: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.transaction(async (tx) => {
      await tx.getRepository(WebhookEndpointEntity).insert(endpoint);
      await this.deps.events.publish(tx, actor, webhookEndpointCreated({
        orgId: endpoint.orgId,
        target: { type: 'webhook_endpoint', id: endpoint.id },
        changes: { url: { after: auditUrl(endpoint.url) }, eventTypes: { after: endpoint.eventTypes }, enabled: { after: endpoint.enabled } },
      }));
    });
    // The only time the secret is shown.
    return { ...toView(endpoint), secret: endpoint.secret };
  }

  /** Updates; returns the view and whether the endpoint was switched back on (its backlog is then re-sent). */
  async update(actor: Actor, id: string, input: z.output<typeof updateSchema>) {
    if (input.url) await this.checkTarget(input.url);
    return this.deps.transaction(async (tx) => {
      const current = await this.find(tx, id);
      const next: WebhookEndpoint = { ...current, updatedAt: this.deps.clock.now() };
      if (input.url !== undefined) next.url = input.url;
      if (input.eventTypes !== undefined) next.eventTypes = input.eventTypes?.length ? input.eventTypes : null;
      if (input.orgId !== undefined) next.orgId = input.orgId;
      if (input.description !== undefined) next.description = input.description;
      if (input.enabled !== undefined) next.enabled = input.enabled;
      const reenabled = !current.enabled && next.enabled;
      if (reenabled) {
        next.consecutiveDead = 0;
        next.disabledReason = null;
      }
      const { id: _id, secret: _s, previousSecret: _p, ...fields } = next;
      await tx.getRepository(WebhookEndpointEntity).update({ id }, fields);
      const changes: Record<string, { before?: unknown; after?: unknown }> = {};
      if (next.url !== current.url) changes.url = { before: auditUrl(current.url), after: auditUrl(next.url) };
      for (const k of ['eventTypes', 'orgId', 'description', 'enabled'] as const) {
        if (JSON.stringify(next[k]) !== JSON.stringify(current[k])) changes[k] = { before: current[k], after: next[k] };
      }
      if (Object.keys(changes).length) {
        await this.deps.events.publish(tx, actor, webhookEndpointUpdated({ orgId: next.orgId, target: { type: 'webhook_endpoint', id }, changes }));
      }
      return { view: toView(next), reenabled };
    });
  }

  async remove(actor: Actor, id: string) {
    await this.deps.transaction(async (tx) => {
      const current = await this.find(tx, id);
      await tx.query('DELETE FROM webhook_attempts WHERE endpoint_id = ?', [id]);
      await tx.query('DELETE FROM webhook_deliveries WHERE endpoint_id = ?', [id]);
      await tx.getRepository(WebhookEndpointEntity).delete({ id });
      await this.deps.events.publish(tx, actor, webhookEndpointDeleted({ orgId: current.orgId, target: { type: 'webhook_endpoint', id }, changes: { url: { before: auditUrl(current.url) } } }));
    });
  }

  /** A new secret, shown once; the previous one keeps signing (alongside) until the overlap ends. */
  async rotate(actor: Actor, id: string, input: z.output<typeof rotateSchema>) {
    const overlap = input.overlapMinutes ?? this.deps.config.rotationOverlapMinutes;
    return this.deps.transaction(async (tx) => {
      const current = await this.find(tx, id);
      const now = this.deps.clock.now();
      const secret = newSecret();
      const previousSecretExpiresAt = overlap > 0 ? new Date(now.getTime() + overlap * 60_000) : null;
      await tx.getRepository(WebhookEndpointEntity).update({ id }, { secret, previousSecret: overlap > 0 ? current.secret : null, previousSecretExpiresAt, updatedAt: now });
      await this.deps.events.publish(tx, actor, webhookEndpointSecretRotated({
        orgId: current.orgId,
        target: { type: 'webhook_endpoint', id },
        changes: { overlapEndsAt: { after: previousSecretExpiresAt?.toISOString() ?? null } },
      }));
      return { id, secret, previousSecretExpiresAt: previousSecretExpiresAt?.toISOString() ?? null };
    });
  }
}
