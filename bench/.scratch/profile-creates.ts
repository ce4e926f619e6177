// Ad-hoc: profile an api-role gateway under SCIM creates only. Not part of the repo.
import { randomBytes } from 'node:crypto';
import { bundleGatewayEntries } from '../lib/build.ts';
import { freePort, stopAllChildren } from '../lib/children.ts';
import { createBenchStores, createTenant, dropBenchStores, gatewayEnv, startGateway } from '../lib/gateway.ts';
import { measure } from '../lib/load.ts';
import { seedUserBody } from '../lib/seed.ts';

const tag = randomBytes(3).toString('hex');
const stores = await createBenchStores(`doorman_prof_${tag}`);
const adminToken = randomBytes(24).toString('hex');
try {
  const { gateway } = await bundleGatewayEntries();
  const port = await freePort();
  const { child, baseUrl } = await startGateway('api', gateway, gatewayEnv(stores.databaseUrl, stores.redisUrl, port, adminToken, process.env.PLUGINS ?? 'token-auth,role-mapping,scim-users,audit', { DOORMAN_ROLE: 'api' }));
  const tenant = await createTenant(baseUrl, adminToken, `org-${tag}`, `conn-${tag}`);
  let n = 0;
  const r = await measure({
    baseUrl,
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/scim+json' },
    connections: 32,
    duration: Number(process.env.DURATION ?? 15),
    warmup: 2,
    next: () => ({ method: 'POST', path: '/scim/v2/Users', body: seedUserBody(`p${n}.${tag}@bench.example`, n++) }),
    cpuOf: { api: child.pid },
  });
  console.log(JSON.stringify({ rps: r.rps, non2xx: r.non2xx, cpu: r.cpuMicrosPerRequest }));
  await child.stop();
} finally {
  await stopAllChildren();
  await dropBenchStores(stores, [`*`]);
}
