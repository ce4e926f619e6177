import { z } from 'zod';
import { auditSettingsRef, coreServices, definePlugin, optionalRef, type Actor, type CliCommand } from '@doorman/plugin-api';
import { webhooksConfigSchema } from './config.ts';
import { Deliverer } from './deliver.ts';
import { deliveriesQuerySchema, listDeliveries, redeliver, showDelivery } from './delivery-log.ts';
import { createSchema, EndpointService, rotateSchema, updateSchema } from './endpoints.ts';
import { eventsQuerySchema, listEvents } from './events-api.ts';
import { deliverJob, purgeJob } from './jobs.ts';
import { EventRecorder } from './recorder.ts';
import { purgeExpired } from './retention.ts';
import { createdEndpointSchema, deliveryDetailSchema, deliveryListSchema, endpointListSchema, endpointSchema, eventListSchema, rotatedSchema } from './schemas.ts';
import { EventSequencer } from './sequencer.ts';

const DAY_MS = 86_400_000;
const actorOf = (ctx: { state: { actor?: Actor } }): Actor => ctx.state.actor!;

const endpointOptions = [
  { flag: '--url', field: 'url', description: 'where deliveries are POSTed (http or https)' },
  { flag: '--event-types', field: 'eventTypes', description: 'comma-separated types or families (person.*); all when absent', type: 'list' },
  { flag: '--org-id', field: 'orgId', description: 'only events of this organization' },
  { flag: '--description', field: 'description', description: 'free text' },
] as const;

const cli: CliCommand[] = [
  {
    command: 'events list',
    description: 'Provisioning events in commit order (the pull API)',
    method: 'GET',
    path: '/events',
    options: [
      { flag: '--after', field: 'after', description: 'listMetadata.after of the previous page' },
      { flag: '--types', field: 'types', description: 'comma-separated event types or families (person.*)' },
      { flag: '--org', field: 'org', description: 'organization id' },
      { flag: '--limit', field: 'limit', description: 'events per page (max 1000)', type: 'number' },
    ],
  },
  { command: 'webhooks list', description: 'List webhook endpoints', method: 'GET', path: '/webhooks' },
  {
    command: 'webhooks create',
    description: 'Create a webhook endpoint (prints its signing secret once)',
    method: 'POST',
    path: '/webhooks',
    options: [...endpointOptions, { flag: '--enabled', field: 'enabled', description: 'true (default) or false', type: 'boolean' }],
  },
  { command: 'webhooks show <id>', description: 'Show a webhook endpoint', method: 'GET', path: '/webhooks/:id' },
  {
    command: 'webhooks update <id>',
    description: 'Change a webhook endpoint (--enabled true re-enables it and re-sends its backlog)',
    method: 'PATCH',
    path: '/webhooks/:id',
    options: [...endpointOptions, { flag: '--enabled', field: 'enabled', description: 'true or false', type: 'boolean' }],
  },
  { command: 'webhooks delete <id>', description: 'Delete a webhook endpoint and its delivery log', method: 'DELETE', path: '/webhooks/:id' },
  {
    command: 'webhooks rotate-secret <id>',
    description: 'Issue a new signing secret (printed once); the old one also signs during the overlap',
    method: 'POST',
    path: '/webhooks/:id/rotate-secret',
    options: [{ flag: '--overlap-minutes', field: 'overlapMinutes', description: 'how long the previous secret keeps signing', type: 'number' }],
  },
  {
    command: 'webhooks deliveries <id>',
    description: "An endpoint's delivery log, newest first",
    method: 'GET',
    path: '/webhooks/:id/deliveries',
    options: [
      { flag: '--status', field: 'status', description: 'pending, waiting, delivered or dead' },
      { flag: '--limit', field: 'limit', description: 'deliveries per page (max 500)', type: 'number' },
      { flag: '--cursor', field: 'cursor', description: 'nextCursor of the previous page' },
    ],
  },
  { command: 'webhooks delivery <deliveryId>', description: 'One delivery with its attempts', method: 'GET', path: '/webhook-deliveries/:deliveryId' },
  { command: 'webhooks redeliver <deliveryId>', description: 'Send a delivery again', method: 'POST', path: '/webhook-deliveries/:deliveryId/redeliver' },
];

/**
 * Provisioning events out: every published domain event of a known type is recorded, with a
 * per-subject sequence, in the publisher's transaction; a pull API lists them in commit order; and
 * deliveries to webhook endpoints, signed per Standard Webhooks, leave through the outbox.
 */
export const webhooksPlugin = definePlugin({
  id: 'webhooks',
  description: 'Signed webhooks and a pull events API for every provisioning change',
  configSchema: webhooksConfigSchema,
  cli,
  deps: {
    config: coreServices.config,
    gateway: coreServices.gateway,
    logger: coreServices.logger,
    db: coreServices.database,
    transaction: coreServices.transaction,
    http: coreServices.http,
    events: coreServices.events,
    jobs: coreServices.jobs,
    clock: coreServices.clock,
    lifecycle: coreServices.lifecycle,
    // Registered first when enabled (events are kept as long as audit events).
    auditSettings: optionalRef(auditSettingsRef),
  },
  register(env) {
    const { db, http, events, jobs, clock, config, logger, transaction } = env;
    const recorder = new EventRecorder(jobs, transaction, clock);
    events.subscribe((tx, actor, event) => recorder.record(tx, actor, event));

    const sequencer = new EventSequencer(db, transaction);
    sequencer.start(config.sequenceIntervalMs, logger);
    env.lifecycle.onShutdown(() => sequencer.stop());

    const deliverer = new Deliverer({ db, transaction, jobs, events, clock, config });
    jobs.define({
      ...deliverJob,
      // The row counts attempts; BullMQ only needs room for them (docs/webhooks.md, "Retries").
      attempts: config.maxAttempts + 1,
      backoffMs: config.backoffMs,
      concurrency: config.concurrency,
      process: (data, job) => deliverer.process(data.deliveryIds, job.attemptsMade),
    });

    if (config.sweepIntervalMs > 0 && env.gateway.role !== 'api') {
      let stopped = false;
      let running: Promise<unknown> = Promise.resolve();
      const tick = () => {
        running = deliverer
          .sweep()
          .then((n) => n && logger.info({ deliveries: n }, 'webhook deliveries whose job went missing were sent again'))
          .catch((err) => logger.warn({ err: (err as Error).message }, 'webhook sweeper failed; retrying'))
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, config.sweepIntervalMs).unref();
          });
      };
      let timer = setTimeout(tick, config.sweepIntervalMs).unref();
      env.lifecycle.onShutdown(async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      });
    }

    // The audit plugin's default (365) when it is not enabled.
    const retentionDays = config.retentionDays ?? env.auditSettings()?.retentionDays ?? 365;
    jobs.define({
      ...purgeJob,
      async process(_data, job) {
        if (!retentionDays) return { events: 0 };
        const result = await purgeExpired(db, new Date(clock.now().getTime() - retentionDays * DAY_MS));
        job.logger.info(result, 'webhook events and delivery logs past retention deleted');
        return result;
      },
    });
    if (retentionDays > 0) jobs.schedule(purgeJob.schedule('webhooks-purge-expired', config.purgeCron));

    const endpoints = new EndpointService({ transaction, events, clock, config });
    const idParams = z.object({ id: z.string().min(1).max(36) });
    const deliveryParams = z.object({ deliveryId: z.string().min(1).max(36) });
    http.adminRoute({
      method: 'get',
      path: '/events',
      scope: 'deployment',
      summary: 'Provisioning events in commit order after a cursor (WorkOS events API shape)',
      query: eventsQuerySchema,
      responses: { 200: { description: 'a page of events', schema: eventListSchema } },
      async handler(_ctx, { query }) {
        // Number what has committed, so a reader sees every change that committed before its request.
        await sequencer.sequenceAll();
        return listEvents(db, query);
      },
    });
    http.adminRoute({
      method: 'get',
      path: '/webhooks',
      scope: 'deployment',
      summary: 'Webhook endpoints',
      responses: { 200: { description: 'every endpoint (never its secrets)', schema: endpointListSchema } },
      handler: () => endpoints.list(db.manager),
    });
    http.adminRoute({
      method: 'post',
      path: '/webhooks',
      scope: 'deployment',
      summary: 'Create a webhook endpoint; its signing secret is shown once',
      body: createSchema,
      responses: { 201: { description: 'the endpoint with its secret', schema: createdEndpointSchema } },
      handler: (ctx, { body }) => endpoints.create(actorOf(ctx), body),
    });
    http.adminRoute({
      method: 'get',
      path: '/webhooks/:id',
      scope: 'deployment',
      summary: 'A webhook endpoint',
      params: idParams,
      responses: { 200: { description: 'the endpoint', schema: endpointSchema } },
      handler: (_ctx, { params }) => endpoints.get(db.manager, params.id),
    });
    http.adminRoute({
      method: 'patch',
      path: '/webhooks/:id',
      scope: 'deployment',
      summary: 'Change a webhook endpoint; enabling it again sends what it held',
      params: idParams,
      body: updateSchema,
      responses: { 200: { description: 'the endpoint', schema: endpointSchema } },
      async handler(ctx, { params, body }) {
        const { view, reenabled } = await endpoints.update(actorOf(ctx), params.id, body);
        // Switched back on: what waited while it was off goes out now.
        if (reenabled) await deliverer.sweep(view.id);
        return view;
      },
    });
    http.adminRoute({
      method: 'delete',
      path: '/webhooks/:id',
      scope: 'deployment',
      summary: 'Delete a webhook endpoint with its deliveries and log',
      params: idParams,
      responses: { 204: { description: 'deleted', schema: null } },
      async handler(ctx, { params }) {
        await endpoints.remove(actorOf(ctx), params.id);
        ctx.status = 204;
      },
    });
    http.adminRoute({
      method: 'post',
      path: '/webhooks/:id/rotate-secret',
      scope: 'deployment',
      summary: 'A new signing secret, shown once; the previous one also signs until the overlap ends',
      params: idParams,
      body: rotateSchema,
      responses: { 200: { description: 'the new secret', schema: rotatedSchema } },
      handler: (ctx, { params, body }) => endpoints.rotate(actorOf(ctx), params.id, body),
    });
    http.adminRoute({
      method: 'get',
      path: '/webhooks/:id/deliveries',
      scope: 'deployment',
      summary: "An endpoint's delivery log, newest first",
      params: idParams,
      query: deliveriesQuerySchema,
      responses: { 200: { description: 'a page of deliveries', schema: deliveryListSchema } },
      async handler(_ctx, { params, query }) {
        await endpoints.get(db.manager, params.id);
        return listDeliveries(db, params.id, query);
      },
    });
    http.adminRoute({
      method: 'get',
      path: '/webhook-deliveries/:deliveryId',
      scope: 'deployment',
      summary: 'One delivery with its attempts (status, latency, response snippet, error)',
      params: deliveryParams,
      responses: { 200: { description: 'the delivery', schema: deliveryDetailSchema } },
      handler: (_ctx, { params }) => showDelivery(db, params.deliveryId),
    });
    http.adminRoute({
      method: 'post',
      path: '/webhook-deliveries/:deliveryId/redeliver',
      scope: 'deployment',
      summary: 'Send a delivery again (same event, same webhook-id)',
      params: deliveryParams,
      responses: { 201: { description: 'the new delivery', schema: deliveryDetailSchema } },
      handler: (_ctx, { params }) => redeliver({ db, transaction, jobs, clock }, params.deliveryId),
    });
  },
});

export { EVENT_TYPES, type EventType } from './types.ts';
