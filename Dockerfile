# syntax=docker/dockerfile:1
# Build stage: the full toolchain; esbuild bundles the CLI and its dependencies (scripts/bundle.ts).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/bundle.ts ./scripts/
COPY src ./src
RUN npx --no-install tsx scripts/bundle.ts dist

# Runtime stage: the bundle and the examples, no node_modules, as a non-root user. package.json
# marks the package root (`rollguard examples` finds examples/ next to it).
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# A container's loopback is its own: the agent and the webhook listen on every interface in it.
ENV ROLLGUARD_IN_CONTAINER=true
# glibc gives each thread that allocates its own malloc arena; V8's GC and compiler threads and
# libuv's pool left ~5 MB of freed memory per arena in RSS (bench:webhook, bench:idle). Two arenas
# hold the same load with less.
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json ./
COPY --from=build /app/dist ./dist
COPY examples ./examples
USER 10001:10001
EXPOSE 8443 8080
ENTRYPOINT ["node", "/app/dist/rollguard.mjs"]
CMD ["--help"]
