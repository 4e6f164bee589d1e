# open-s3vectors as a container: the npm package built from this checkout, run as a non-root user,
# data in a volume, SigV4 authentication on. Build: docker build -t open-s3vectors .
# LanceDB's native module is installed for linux/amd64 (the registry's current builds; see README).

FROM --platform=linux/amd64 node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.types.json ./
COPY bin ./bin
COPY lambdas ./lambdas
COPY console ./console
COPY README.md LICENSE ./
# prepack builds dist/ (compiled JavaScript), then the tarball is what `npm install open-s3vectors` gets.
RUN npm pack --pack-destination /pkg

FROM --platform=linux/amd64 node:22-bookworm-slim
ENV NODE_ENV=production \
    S3V_HOST=0.0.0.0 \
    S3V_PORT=8000 \
    S3V_DATA_DIR=/data
WORKDIR /app
COPY --from=build /pkg/ /tmp/pkg/
RUN npm install --omit=dev --no-audit --no-fund /tmp/pkg/open-s3vectors-*.tgz \
    && rm -rf /tmp/pkg /root/.npm \
    && mkdir -p /data /keys \
    && chown node:node /data /keys
# /keys: where a shared S3V_SECRET_KEY_FILE is mounted in cluster mode (compose.cluster.yaml).
USER node
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/app/node_modules/.bin/open-s3vectors", "health"]
ENTRYPOINT ["/app/node_modules/.bin/open-s3vectors"]
