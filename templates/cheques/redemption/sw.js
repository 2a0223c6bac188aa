/* The scan page's service worker (scope /encaisser/): the page and its files, the QR
   decoder's WebAssembly included, are kept on the device so that /encaisser/ opens with no
   network once it has been visited. Rendered by cheques.web.redemption.service_worker with
   the files' real (hashed) addresses; a new list is a new version, and a new cache.
   Only GET requests for the page and those files are answered here: the API and every
   other request go to the network as usual (the page keeps its baskets itself). */
"use strict";
var VERSION = "{{ version }}";
var CACHE = "aptic-scan-" + VERSION;
var PAGE = "{{ page }}";
var ASSETS = {{ assets|safe }};
/* On a network that answers too slowly ("lie-fi"), the kept page is shown after this. */
var PAGE_TIMEOUT_MS = 6000;

function keepPage(cache, response) {
  /* A redirect to the sign-in page, or an error page, is not the scan page. */
  if (response && response.ok && !response.redirected && response.type === "basic") {
    return cache.put(PAGE, response.clone());
  }
  return Promise.resolve();
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS).then(function () {
      return fetch(PAGE, { credentials: "same-origin" }).then(function (response) {
        return keepPage(cache, response);
      }).catch(function () { /* kept at the next visit */ });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("aptic-scan-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function pageFromNetworkOrCache(request) {
  return caches.open(CACHE).then(function (cache) {
    var network = fetch(request).then(function (response) {
      return keepPage(cache, response).then(function () { return response; });
    });
    var slow = new Promise(function (resolve, reject) {
      setTimeout(function () { reject(new Error("slow")); }, PAGE_TIMEOUT_MS);
    });
    return Promise.race([network, slow]).catch(function () {
      return cache.match(PAGE).then(function (kept) { return kept || network; });
    });
  });
}

/* A kept file at once, refreshed behind it for the next visit. */
function assetFromCacheThenNetwork(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (kept) {
      var network = fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
      if (kept) { network.catch(function () { /* offline: the kept one did */ }); return kept; }
      return network;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(pageFromNetworkOrCache(request));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(assetFromCacheThenNetwork(request));
  }
});
