# Production image for the Doorman gateway (api, worker or all roles: set DOORMAN_ROLE).
# Not exercised by the test suite on this project's machines (they have no Docker engine).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN corepack enable && corepack prepare pnpm@10.34.8 --activate
COPY . .
RUN pnpm install --frozen-lockfile && pnpm turbo run build --filter=@doorman/gateway

FROM node:20-bookworm-slim
WORKDIR /app
# A larger young generation: request garbage dies young instead of being promoted (see README, "Memory").
ENV NODE_ENV=production DOORMAN_MODE=production PORT=8080 NODE_OPTIONS=--max-semi-space-size=64
COPY --from=build /app /app
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Plain node: the workspace's TypeScript is bundled into dist/ by apps/gateway/build.mjs (esbuild).
CMD ["node", "apps/gateway/dist/main.mjs"]
