# Production image for the Doorman gateway (api, worker or all roles: set DOORMAN_ROLE).
# Not exercised by the test suite on this project's machines (they have no Docker engine); the same
# build and deploy steps are (apps/gateway/test/build.test.ts, README "Production build").
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN corepack enable && corepack prepare pnpm@10.34.8 --activate
COPY . .
# The bundle (dist/) compiles the workspace in; `pnpm deploy` writes the gateway package with only its
# production node_modules (the third-party packages the bundle loads) to /out.
RUN pnpm install --frozen-lockfile \
 && pnpm --filter @doorman/gateway run build \
 && pnpm --filter @doorman/gateway deploy --legacy --prod /out

FROM node:20-bookworm-slim
WORKDIR /app
# A larger young generation: request garbage dies young instead of being promoted (see README, "Memory").
ENV NODE_ENV=production DOORMAN_MODE=production PORT=8080 NODE_OPTIONS=--max-semi-space-size=64
# /out holds package.json, bin/, dist/ and node_modules/: that is all a host needs.
COPY --from=build /out /app
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Plain node on the bundle. The CLI: `docker compose exec api node bin/doorman.mjs <command>`.
CMD ["node", "dist/main.mjs"]
