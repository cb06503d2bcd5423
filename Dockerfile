# twilio-insights-exporter container image.
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build step: the image holds
# the repository's src/ and config/ plus the production dependencies, installed from the lockfile.
#
#   docker build -t twilio-insights-exporter .
#   docker run -p 9487:9487 -e TWILIO_AUTH_TOKEN=... \
#     -v $PWD/config.yaml:/etc/twilio-insights-exporter/config.yaml:ro twilio-insights-exporter
#
#   docker run -p 9487:9487 -e TWILIO_ACCOUNT_SID=AC... -e TWILIO_AUTH_TOKEN=... twilio-insights-exporter
#
# The baked-in configuration is config/container.yaml: the account comes from the environment and discovery is
# on; mount your own file over it for anything else (config/example.yaml documents every key). The web config
# config/web.yaml (TLS, basic auth) is baked in empty at /etc/twilio-insights-exporter/web.yaml. Pass other
# flags (they replace the default command): docker run twilio-insights-exporter --demo
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
COPY config/container.yaml /etc/twilio-insights-exporter/config.yaml
# The state file (state.path) carries what was already counted over a restart; keep the directory on a volume.
# Set TWILIO_INSIGHTS_EXPORTER_STATE_PATH="" to run without one.
RUN mkdir -p /var/lib/twilio-insights-exporter && chown node:node /var/lib/twilio-insights-exporter
ENV TWILIO_INSIGHTS_EXPORTER_STATE_PATH=/var/lib/twilio-insights-exporter/state.json
VOLUME ["/var/lib/twilio-insights-exporter"]
COPY config/web.yaml /etc/twilio-insights-exporter/web.yaml
# The official image's unprivileged user (uid 1000); nothing in /app is writable by it.
USER node
EXPOSE 9487
# The exporter asks itself, with the same config and web config as the default command: it finds the listen
# address, trusts the configured TLS certificate and, with basic auth on, authenticates with the password
# mounted at healthcheck-password. Exit 0 healthy, 1 unhealthy (Docker counts any non-zero as a failure).
# Override HEALTHCHECK when you pass other --config.file / --web.* flags.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "src/main.ts", "--healthcheck", "--config.file=/etc/twilio-insights-exporter/config.yaml", "--web.config.file=/etc/twilio-insights-exporter/web.yaml", "--healthcheck.password-file=/etc/twilio-insights-exporter/healthcheck-password"]
ENTRYPOINT ["node", "src/main.ts"]
CMD ["--config.file=/etc/twilio-insights-exporter/config.yaml", "--web.config.file=/etc/twilio-insights-exporter/web.yaml"]
