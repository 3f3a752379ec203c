# One image, five processes: choose the process with the command, e.g.
#   docker run qianfan-order node dist/restful/main.js
#   docker run qianfan-order node dist/service/main.js      (consumer, job likewise)
#   docker run qianfan-order qianfan-order migrate          (the operator CLI)
# Config: config/production.yaml (no secrets) plus QIANFAN_<SECTION>__<KEY> overrides, or mount a file
# and point QIANFAN_CONFIG at it. Secrets come from the environment only.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY internal ./internal
COPY pkg ./pkg
COPY restful ./restful
COPY service ./service
COPY consumer ./consumer
COPY job ./job
COPY script ./script
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production QIANFAN_CONFIG=/app/config/production.yaml
WORKDIR /app
# A fixed uid/gid so orchestrators can require it (deploy/k8s: runAsUser 10001).
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --home /app app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# Only the production config, which holds no secrets: dev/test configs (and their dev secrets) stay out.
COPY config/production.yaml ./config/production.yaml
RUN ln -s /app/bin/qianfan-order.js /usr/local/bin/qianfan-order
USER app
# restful 8888, gRPC 9000, admin ports of service/consumer/job 9101-9103
EXPOSE 8888 9000 9101 9102 9103
STOPSIGNAL SIGTERM
CMD ["node", "dist/restful/main.js"]
