# The optimize job's image (lib/maintenance-job.ts): the maintenance code for one index
# (lambdas/maintenance/job.ts, bundled) on Node 22 with LanceDB's native module for linux/amd64.
# Built when `cdk deploy` publishes the stack's assets; `cdk synth` only stages its context.
FROM --platform=linux/amd64 node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY lambdas ./lambdas
# Dependencies stay in node_modules (installed below): the bundle is only this project's code.
RUN npx esbuild lambdas/maintenance/job.ts --bundle --platform=node --target=node22 --format=cjs --packages=external --outfile=/out/job.js

FROM --platform=linux/amd64 node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf /root/.npm
COPY --from=build /out/job.js ./job.js
USER node
ENTRYPOINT ["node", "/app/job.js"]
