import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import { defineError, type HttpSurface } from '@doorman/core';
import type { Queue } from '@doorman/jobs';

export const JOB_DASHBOARD_PATH = '/admin/queues';

/**
 * Mounts the bull-board dashboard (job lists, retry, clean, promote) for the given queues under an
 * admin-authenticated path: every page, asset and API call needs an admin token. A browser gets a
 * Basic challenge and signs in with any user name and an admin token as the password (core's
 * `adminAuthenticator` is the one check; a console session can be added there).
 */
export function mountJobDashboard(http: HttpSurface, queues: Iterable<Queue> | ReadonlyMap<string, Queue>, basePath = JOB_DASHBOARD_PATH): void {
  const list = queues instanceof Map ? [...queues.values()] : [...(queues as Iterable<Queue>)];
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: list.map((q) => new BullMQAdapter(q)),
    // @bull-board/koa 9.10.1 is typed against @bull-board/api 9.10.1 (we have 9.10.2): same shape, nominally distinct classes.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'Doorman jobs' } },
  });
  http.mountAdminApp(basePath, serverAdapter.registerPlugin());
}

export const DASHBOARD_NEEDS_REDIS =
  'the job dashboard needs Redis: set REDIS_URL. Without it (the embedded default) jobs run inline in this process and there are no queues to show';

/** 404 with the reason, where a deployment has no Redis (so no BullMQ queues). */
export const DashboardNeedsRedisError = defineError('DMN_DASHBOARD_NEEDS_REDIS', 404);

/** What `/admin/queues` answers (after admin authentication) when jobs run inline. */
export function mountJobDashboardUnavailable(http: HttpSurface, basePath = JOB_DASHBOARD_PATH): void {
  http.mountAdminApp(basePath, async () => {
    throw new DashboardNeedsRedisError(DASHBOARD_NEEDS_REDIS);
  });
}
