# syntax=docker/dockerfile:1
# pet-life: build with the dev dependencies, run with the production ones only (issue #15).
#   docker build -t pet-life .
#   docker run --rm -p 3000:3000 -v pet-life-data:/data pet-life
# test/e2e/docker.test.ts reads this file: it runs the production stage's COPY, `npm ci` and CMD
# lines in a clean folder as a non-root user, and checks FROM, USER, HEALTHCHECK and STOPSIGNAL.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:22-bookworm-slim AS production
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; no install scripts (the only one, @scarf/scarf's, is analytics).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# dist/src (the server) and dist/web (the page); /docs serves swagger-ui-dist from node_modules.
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
# The image's unprivileged user (uid 1000).
USER node
VOLUME ["/data"]
EXPOSE 3000
# src/main.ts shuts down gracefully on SIGTERM: stops accepting, lets requests in flight finish
# (at most SHUTDOWN_TIMEOUT_MS, 10 s by default), closes storage. Docker's default grace before
# SIGKILL is also 10 s: give it more (`docker stop -t 15`, compose's stop_grace_period: 15s).
STOPSIGNAL SIGTERM
# No curl in slim images: Node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
