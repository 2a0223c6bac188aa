#!/bin/sh
# Re-create the vendored front-end files from their npm packages (no CDN, ever).
# Usage: sh static/vendor/fetch.sh   (needs npm; run from anywhere)
set -eu
VENDOR="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Leaflet.markercluster (MIT), clustered markers on the public map of places.
MARKERCLUSTER_VERSION=1.5.3
(cd "$WORK" && npm pack --silent "leaflet.markercluster@$MARKERCLUSTER_VERSION" >/dev/null \
  && tar xzf "leaflet.markercluster-$MARKERCLUSTER_VERSION.tgz")
rm -rf "$VENDOR/leaflet.markercluster"
mkdir -p "$VENDOR/leaflet.markercluster"
for file in leaflet.markercluster.js leaflet.markercluster.js.map leaflet.markercluster-src.js \
            leaflet.markercluster-src.js.map MarkerCluster.css \
            MarkerCluster.Default.css; do
  cp "$WORK/package/dist/$file" "$VENDOR/leaflet.markercluster/"
done
cp "$WORK/package/MIT-LICENCE.txt" "$VENDOR/leaflet.markercluster/LICENSE"
echo "$MARKERCLUSTER_VERSION" > "$VENDOR/leaflet.markercluster/VERSION"
