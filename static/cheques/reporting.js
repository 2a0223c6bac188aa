/* The funder dashboard's map: redemptions by place, from the GeoJSON endpoint named in the
   container's data-url (the table beside it says the same). Called by django-leaflet. */
(function () {
  "use strict";

  window.apticReportingMap = function (map) {
    var container = document.querySelector(".reporting-map");
    if (!container) { return; }
    fetch(container.dataset.url, {credentials: "same-origin",
                                  headers: {Accept: "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var max = 1;
        data.features.forEach(function (f) { max = Math.max(max, f.properties.redemptions); });
        var layer = L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            var radius = 6 + 18 * Math.sqrt(feature.properties.redemptions / max);
            return L.circleMarker(latlng, {radius: radius, color: "#0b2e5c", weight: 1,
                                           fillColor: "#1d4f91", fillOpacity: 0.6});
          },
          onEachFeature: function (feature, marker) {
            var p = feature.properties;
            var box = document.createElement("div");
            var name = document.createElement("strong");
            name.textContent = p.name;
            box.appendChild(name);
            box.appendChild(document.createElement("br"));
            box.appendChild(document.createTextNode(
              p.town + " — " + p.redemptions + " " + (container.dataset.label || "") + ", " +
              window.apticFormat.euros(p.amount_cents)));
            marker.bindPopup(box);
          }
        }).addTo(map);
        if (data.features.length) { map.fitBounds(layer.getBounds(), {maxZoom: 12, padding: [20, 20]}); }
      });
  };
}());
