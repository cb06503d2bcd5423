# twilio-insights-exporter container image.
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build step: the image holds
# the repository's src/ and config/ plus the production dependencies, installed from the lockfile.
#
#   docker build -t twilio-insights-exporter .
#   docker run -p 9487:9487 -e TWILIO_AUTH_TOKEN=... \
#     -v $PWD/config.yaml:/etc/twilio-insights-exporter/config.yaml:ro twilio-insights-exporter
#
# The baked-in configuration is config/example.yaml (every key at its default); mount your own over it, or
# pass other flags (they replace the default command): docker run twilio-insights-exporter --demo
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only. No package the exporter needs at run time has an install script (checked
# in test/unit/deploy), so scripts stay off.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="twilio-insights-exporter" \
      org.opencontainers.image.description="Streams Twilio Voice Insights call-quality metrics into Prometheus and OpenTelemetry" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
COPY config ./config
COPY config/example.yaml /etc/twilio-insights-exporter/config.yaml
# The state file (state.path) carries what was already counted over a restart; keep the directory on a volume.
# Set TWILIO_INSIGHTS_EXPORTER_STATE_PATH="" to run without one.
RUN mkdir -p /var/lib/twilio-insights-exporter && chown node:node /var/lib/twilio-insights-exporter
ENV TWILIO_INSIGHTS_EXPORTER_STATE_PATH=/var/lib/twilio-insights-exporter/state.json
VOLUME ["/var/lib/twilio-insights-exporter"]
# The official image's unprivileged user (uid 1000); nothing in /app is writable by it.
USER node
EXPOSE 9487
# No curl in the slim image: Node's own fetch asks the liveness endpoint. It assumes the default listen
# port without TLS (--web.config.file); override HEALTHCHECK if you change either.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9487/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "src/main.ts"]
CMD ["--config.file=/etc/twilio-insights-exporter/config.yaml"]
