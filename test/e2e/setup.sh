#!/usr/bin/env bash
# Installs what the end-to-end suite needs and npm cannot give: Prometheus and promtool (Debian), Chromium (Debian),
# and VictoriaMetrics as a real OTLP receiver (Debian trixie package, unpacked into .cache/, not installed).
set -euo pipefail
cd "$(dirname "$0")/../.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package starts a system service on port 9090 on some machines; the tests run their own.
  as_root systemctl stop prometheus >/dev/null 2>&1 || true
  as_root pkill -x prometheus >/dev/null 2>&1 || true
fi

# Headless Chromium for the status page test (test/e2e/status-page.test.ts).
if ! command -v chromium >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

VM=.cache/vm/usr/bin/victoria-metrics
if [ ! -x "$VM" ]; then
  A=$PWD/.cache/apt-trixie
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
  MIRROR=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" > "$A/sources.list"
  O=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache")
  apt-get "${O[@]}" update -qq
  (cd "$A" && apt-get "${O[@]}" download victoria-metrics >/dev/null)
  dpkg-deb -x "$A"/victoria-metrics_*.deb "$PWD/.cache/vm"
fi
bash "$(dirname "$0")/setup-otel-proto.sh"
echo "e2e setup: $(prometheus --version 2>&1 | head -1); $(chromium --version 2>/dev/null); victoria-metrics at $VM"
