/* The public map of places: search box with autocompletion (ARIA combobox), "autour de moi",
   filters, a results list sorted by distance (usable without the map; a live region announces
   the count) and a Leaflet map with clustered markers. Vanilla JS, no build step. */
(function () {
  "use strict";

  var form = document.getElementById("place-search");
  if (!form) { return; }
  var strings = JSON.parse(document.getElementById("places-strings").textContent);
  var input = document.getElementById("place-query");
  var listbox = document.getElementById("place-suggestions");
  var status = document.getElementById("search-status");
  var results = document.getElementById("place-results");
  var locateButton = document.getElementById("locate-me");
  var lang = document.documentElement.lang || "fr";
  var kmFormat = new Intl.NumberFormat(lang, {maximumFractionDigits: 1, minimumFractionDigits: 1});

  var suggestions = [];
  var activeIndex = -1;
  var chosen = null;      // the commune picked from the suggestions
  var center = null;      // {latitude, longitude, label} of the last search
  var map = null, markers = null, gridLayer = null, searchLayer = null;
  var suggestTimer = null, suggestSeq = 0, searchSeq = 0, viewportSeq = 0;

  function t(key, values) {
    var text = strings[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    });
    return text;
  }

  function announce(text) { status.textContent = text; }

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attributes[name]; }
      else { node.setAttribute(name, attributes[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function getJSON(url) {
    return fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { var error = new Error(body.detail || response.statusText); error.body = body; throw error; }
          return body;
        });
      });
  }

  function filterParams() {
    var params = new URLSearchParams();
    var data = new FormData(form);
    ["service", "department", "radius_km", "open_now", "free"].forEach(function (name) {
      var value = data.get(name);
      if (value) { params.set(name, value); }
    });
    data.getAll("support").forEach(function (value) { params.append("support", value); });
    return params;
  }

  /* ---------- autocompletion: an ARIA 1.2 combobox with a listbox popup ---------- */

  function closeSuggestions() {
    listbox.hidden = true;
    listbox.innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    activeIndex = -1;
  }

  function highlight(index) {
    var options = listbox.querySelectorAll("[role=option]");
    options.forEach(function (option, position) {
      option.setAttribute("aria-selected", position === index ? "true" : "false");
    });
    activeIndex = index;
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({block: "nearest"});
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function showSuggestions(communes) {
    suggestions = communes;
    listbox.innerHTML = "";
    if (!communes.length) { closeSuggestions(); return; }
    communes.forEach(function (commune, index) {
      var option = element("li", {id: "place-suggestion-" + index, role: "option",
                                  "aria-selected": "false", text: commune.label});
      option.addEventListener("mousedown", function (event) { event.preventDefault(); });
      option.addEventListener("click", function () { choose(index); });
      listbox.appendChild(option);
    });
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    activeIndex = -1;
  }

  function choose(index) {
    var commune = suggestions[index];
    if (!commune) { return; }
    chosen = commune;
    input.value = commune.label;
    closeSuggestions();
    searchAround({latitude: commune.latitude, longitude: commune.longitude, label: commune.label});
  }

  function fetchCommunes(query) {
    return getJSON(form.dataset.apiCommunes + "?" + new URLSearchParams({q: query}))
      .then(function (body) { return body.results; });
  }

  input.addEventListener("input", function () {
    chosen = null;
    clearTimeout(suggestTimer);
    var query = input.value.trim();
    if (query.length < 2) { closeSuggestions(); return; }
    suggestTimer = setTimeout(function () {
      var seq = ++suggestSeq;
      fetchCommunes(query).then(function (communes) {
        if (seq !== suggestSeq) { return; }
        showSuggestions(communes.filter(function (c) { return c.latitude !== null; }));
      }).catch(function () { closeSuggestions(); });
    }, 150);
  });

  input.addEventListener("keydown", function (event) {
    var open = !listbox.hidden && suggestions.length;
    if (event.key === "ArrowDown" && open) {
      event.preventDefault(); highlight((activeIndex + 1) % suggestions.length);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault(); highlight(activeIndex <= 0 ? suggestions.length - 1 : activeIndex - 1);
    } else if (event.key === "Enter" && open && activeIndex >= 0) {
      event.preventDefault(); choose(activeIndex);
    } else if (event.key === "Escape" && open) {
      event.preventDefault(); closeSuggestions();
    }
  });
  input.addEventListener("blur", function () { setTimeout(closeSuggestions, 150); });

  /* ---------- search ---------- */

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    closeSuggestions();
    var query = input.value.trim();
    if (chosen && chosen.label === query) {
      searchAround({latitude: chosen.latitude, longitude: chosen.longitude, label: chosen.label});
      return;
    }
    if (!query) { announce(t("type_place")); input.focus(); return; }
    if (/^\d{5}$/.test(query)) { runSearch({postcode: query}); return; }
    announce(t("searching"));
    fetchCommunes(query).then(function (communes) {
      var commune = communes.filter(function (c) { return c.latitude !== null; })[0];
      if (!commune) { announce(t("no_commune", {query: query})); return; }
      chosen = commune;
      input.value = commune.label;
      searchAround({latitude: commune.latitude, longitude: commune.longitude, label: commune.label});
    }).catch(function () { announce(t("error")); });
  });

  form.addEventListener("change", function (event) {
    if (event.target === input) { return; }
    if (center) { searchAround(center); }
    loadViewport();
  });

  function searchAround(point) {
    runSearch({lat: point.latitude.toFixed(5), lon: point.longitude.toFixed(5)}, point.label);
  }

  function runSearch(where, label) {
    var params = filterParams();
    Object.keys(where).forEach(function (name) { params.set(name, where[name]); });
    var seq = ++searchSeq;
    announce(t("searching"));
    form.setAttribute("aria-busy", "true");
    getJSON(form.dataset.apiPlaces + "?" + params).then(function (body) {
      if (seq !== searchSeq) { return; }
      center = {latitude: body.center.latitude, longitude: body.center.longitude,
                label: label || body.center.label};
      renderResults(body.results);
      var whereText = center.label || t("my_position");
      if (!body.count) { announce(t("none", {where: whereText})); }
      else if (body.count === 1) { announce(t("found_one", {where: whereText})); }
      else { announce(t("found", {count: body.count, where: whereText})); }
      showOnMap(body.results);
      if (input.value.trim() && window.history.replaceState) {
        var pageParams = filterParams();
        pageParams.set("q", input.value.trim());
        window.history.replaceState(null, "", "?" + pageParams);
      }
    }).catch(function (error) {
      if (seq !== searchSeq) { return; }
      announce(error.body && error.body.detail ? error.body.detail : t("error"));
    }).then(function () { form.removeAttribute("aria-busy"); });
  }

  function renderResults(places) {
    results.innerHTML = "";
    places.forEach(function (place) {
      var badge = null;
      if (place.open_now === true) { badge = element("span", {"class": "badge ok", text: t("open")}); }
      else if (place.open_now === false) { badge = element("span", {"class": "badge", text: t("closed")}); }
      var hoursLine = element("p", {"class": "place-hours"}, [badge]);
      if (place.today) {
        hoursLine.appendChild(document.createTextNode((badge ? " " : "") + t("today") + " " + place.today));
      }
      var services = place.services.map(function (s) { return s.label; }).join(" · ");
      results.appendChild(element("li", {"class": "place-result", "data-place-id": place.id}, [
        element("h3", {}, [element("a", {href: place.url, text: place.name})]),
        element("p", {"class": "place-distance", text: t("km", {distance: kmFormat.format(place.distance_km)})}),
        element("p", {text: place.address + ", " + place.postcode + " " + place.town}),
        (badge || place.today) ? hoursLine : null,
        services ? element("p", {"class": "place-services", text: t("services") + " " + services}) : null
      ]));
    });
  }

  /* ---------- "autour de moi" ---------- */

  if (navigator.geolocation && locateButton) {
    locateButton.hidden = false;
    locateButton.addEventListener("click", function () {
      announce(t("locating"));
      navigator.geolocation.getCurrentPosition(function (position) {
        chosen = null;
        searchAround({latitude: position.coords.latitude, longitude: position.coords.longitude,
                      label: t("my_position")});
      }, function () { announce(t("geo_denied")); }, {timeout: 15000, maximumAge: 300000});
    });
  }

  /* ---------- the map (optional: the list above works without it) ---------- */

  function showOnMap(places) {
    if (!map) { return; }
    searchLayer.clearLayers();
    var bounds = [];
    if (center) {
      searchLayer.addLayer(L.circleMarker([center.latitude, center.longitude],
        {radius: 7, color: "#073763", fillColor: "#ffbf47", fillOpacity: 1, weight: 2}));
      bounds.push([center.latitude, center.longitude]);
    }
    places.forEach(function (place) { bounds.push([place.latitude, place.longitude]); });
    if (bounds.length > 1) { map.fitBounds(bounds, {padding: [30, 30], maxZoom: 15}); }
    else if (bounds.length === 1) { map.setView(bounds[0], 13); }
  }

  function popupContent(feature) {
    var link = element("a", {href: "/lieux/" + feature.properties.id + "/", text: feature.properties.name});
    return element("div", {}, [element("strong", {}, [link])]);
  }

  function loadViewport() {
    if (!map) { return; }
    var b = map.getBounds();
    var params = filterParams();
    params.delete("radius_km");
    params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return Math.max(-180, Math.min(180, v)).toFixed(4); }).join(","));
    var seq = ++viewportSeq;
    getJSON(form.dataset.apiGeojson + "?" + params).then(function (body) {
      if (seq !== viewportSeq) { return; }
      markers.clearLayers();
      gridLayer.clearLayers();
      var individual = [];
      body.features.forEach(function (feature) {
        var c = feature.geometry.coordinates;
        if (feature.properties.count) {
          var count = feature.properties.count;
          var size = count < 10 ? "small" : (count < 100 ? "medium" : "large");
          var marker = L.marker([c[1], c[0]], {
            icon: L.divIcon({html: "<div><span>" + count + "</span></div>",
                             className: "marker-cluster marker-cluster-" + size,
                             iconSize: L.point(40, 40)}),
            title: t("places_here", {count: count}), keyboard: true
          });
          marker.on("click", function () { map.setView([c[1], c[0]], Math.min(map.getZoom() + 2, 18)); });
          gridLayer.addLayer(marker);
        } else {
          individual.push(L.marker([c[1], c[0]], {title: feature.properties.name, keyboard: true})
            .bindPopup(popupContent(feature)));
        }
      });
      markers.addLayers(individual);
    }).catch(function () { /* the list still works */ });
  }

  window.apticPlacesMap = function (leafletMap) {
    map = leafletMap;
    markers = L.markerClusterGroup ? L.markerClusterGroup({showCoverageOnHover: false}) : L.layerGroup();
    if (!markers.addLayers) { markers.addLayers = function (ls) { ls.forEach(function (l) { markers.addLayer(l); }); }; }
    gridLayer = L.layerGroup();
    searchLayer = L.layerGroup();
    map.addLayer(markers); map.addLayer(gridLayer); map.addLayer(searchLayer);
    /* A filtered map (a booklet's QR code) opens on the places it keeps. */
    if (form.dataset.extent) {
      var e = form.dataset.extent.split(",").map(Number);
      map.fitBounds([[e[0], e[1]], [e[2], e[3]]], {padding: [30, 30], maxZoom: 13, animate: false});
    }
    var timer = null;
    map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(loadViewport, 200); });
    loadViewport();
    if (center) { showOnMap([]); }
  };

  /* A search given in the address (?q=…, or the no-JavaScript form) is replayed live. */
  if (input.value.trim() && form.requestSubmit) { form.requestSubmit(); }
}());
