#!/usr/bin/env bash
# Unpacks the official OpenTelemetry .proto files (Debian `opentelemetry-proto` from bookworm-backports) into
# .cache/otel-proto, so the end-to-end suite can decode the exporter's OTLP requests exactly. Idempotent: a
# second run finds the files and does nothing. Nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=$PWD/.cache/otel-proto
PROTO=$OUT/usr/include/opentelemetry/proto/collector/metrics/v1/metrics_service.proto
if [ ! -f "$PROTO" ]; then
  A=$PWD/.cache/apt-bookworm-backports
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
  MIRROR=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm-backports main" > "$A/sources.list"
  O=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o APT::Sandbox::User=root)
  apt-get "${O[@]}" update -qq
  rm -f "$A"/opentelemetry-proto_*.deb
  (cd "$A" && apt-get "${O[@]}" download opentelemetry-proto/bookworm-backports >/dev/null)
  rm -rf "$OUT"
  dpkg-deb -x "$A"/opentelemetry-proto_*.deb "$OUT"
fi
if [ ! -f "$PROTO" ]; then
  echo "setup-otel-proto: $PROTO missing after unpacking opentelemetry-proto" >&2
  exit 1
fi
echo "e2e setup: OpenTelemetry .proto files at ${OUT#"$PWD/"}/usr/include (import root)"
