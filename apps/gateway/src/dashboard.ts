import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { HttpSurface } from '@doorman/core';
import type { Queue } from '@doorman/jobs';

export const JOB_DASHBOARD_PATH = '/admin/queues';

/**
 * Mounts the bull-board dashboard (job lists, retry, clean, promote) for the given queues under an
 * admin-authenticated path: every page, asset and API call needs an admin token.
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
