/* The scan page: typed or scanned cheques go into a basket that is redeemed in one request.
   The basket and its idempotency key survive a reload or a lost connection (localStorage),
   so a retry never pays a cheque twice. No framework, no CDN. */
(function () {
  "use strict";
  var root = document.getElementById("scan");
  if (!root) { return; }
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }
  var places = data("scan-places");
  var initial = data("scan-initial");
  var DAMM = data("scan-damm");
  var ALPHABET = data("scan-alphabet");
  var MESSAGES = data("scan-messages");
  /* A message of the page's language, its {name} slots filled; a {one, other} pair picks
     by values.count. */
  function t(key, values) {
    var message = MESSAGES[key];
    values = values || {};
    if (typeof message === "object") { message = values.count > 1 ? message.other : message.one; }
    return message.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? String(values[name]) : all;
    });
  }
  var STORAGE = "aptic-scan-basket";
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;

  var el = function (id) { return document.getElementById(id); };
  var placeInput = el("place"), serviceSelect = el("service"), confirmButton = el("confirm");
  var hint = el("manual-hint"), codeInput = el("manual-code"), result = el("result");
  var defaultHint = hint.textContent;

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "k-" + Date.now() + "-" + Math.random().toString(16).slice(2);
  }
  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORAGE));
      if (saved && saved.items) { return saved; }
    } catch (e) { /* a corrupt basket is dropped */ }
    return { key: newKey(), items: [], pending: false };
  }
  var basket = load();
  function save() { localStorage.setItem(STORAGE, JSON.stringify(basket)); }

  function normalise(text) {
    return (text || "").toUpperCase().replace(/[\s\-\u00a0]/g, "")
      .replace(/O/g, "0").replace(/[IL]/g, "1");
  }
  function wellFormed(code) { return new RegExp("^[" + ALPHABET + "]{13}$").test(code); }
  function checkOk(code) {
    var interim = 0;
    for (var i = 0; i < code.length; i++) { interim = DAMM[interim][ALPHABET.indexOf(code[i])]; }
    return interim === 0;
  }
  function display(code) {
    return code.slice(0, 4) + "-" + code.slice(4, 8) + "-" + code.slice(8, 12) + "-" + code.slice(12);
  }
  /* Money and dates in the page's language (static/aptic/format.js). */
  var euros = window.apticFormat.euros;
  var shortDate = window.apticFormat.date;
  function setHint(text, isError) {
    hint.textContent = text;
    hint.classList.toggle("error", !!isError);
  }

  /* --- the basket --- */
  function currentPlace() {
    var id = parseInt(placeInput.value, 10);
    return places.filter(function (p) { return p.id === id; })[0] || places[0];
  }
  function renderServices() {
    var allowed = null;
    basket.items.forEach(function (item) {
      var list = item.info && item.info.allowed_services;
      if (list && list.length) {
        allowed = allowed === null ? list.slice() : allowed.filter(function (s) { return list.indexOf(s) >= 0; });
      }
    });
    var previous = serviceSelect.value;
    serviceSelect.innerHTML = "";
    currentPlace().services.forEach(function (service) {
      if (allowed !== null && allowed.indexOf(service.slug) < 0) { return; }
      var option = document.createElement("option");
      option.value = service.slug;
      option.textContent = service.label + " — " + t("cheques", { count: service.cheques });
      serviceSelect.appendChild(option);
    });
    if (previous) { serviceSelect.value = previous; }
    el("service-help").textContent = serviceSelect.options.length ? "" :
      t("no_common_service");
  }
  function render() {
    var body = el("basket");
    body.innerHTML = "";
    var total = 0, ready = basket.items.length > 0;
    basket.items.forEach(function (item, index) {
      var row = document.createElement("tr");
      var info = item.info || {};
      var state = item.error ? item.error : (info.redeemable ? t("to_redeem") : (info.refusal ? info.refusal.detail : t("checking")));
      if (!info.redeemable) { ready = false; } else { total += info.face_value_cents; }
      [["code", display(item.code)], ["num", info.face_value_cents ? euros(info.face_value_cents) : "—"],
       ["", shortDate(info.valid_until)], ["", state]].forEach(function (cell, i) {
        var td = document.createElement("td");
        if (cell[0] === "num") { td.className = "num"; }
        if (i === 0) { var c = document.createElement("code"); c.textContent = cell[1]; td.appendChild(c); }
        else { td.textContent = cell[1]; }
        row.appendChild(td);
      });
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "danger"; remove.textContent = t("remove");
      remove.setAttribute("aria-label", t("remove_cheque", { code: display(item.code) }));
      remove.addEventListener("click", function () {
        basket.items.splice(index, 1); save(); render();
      });
      var td = document.createElement("td"); td.appendChild(remove); row.appendChild(td);
      body.appendChild(row);
    });
    el("basket-table").hidden = basket.items.length === 0;
    el("basket-empty").hidden = basket.items.length > 0;
    el("basket-total").textContent = euros(total);
    renderServices();
    confirmButton.disabled = !ready || !serviceSelect.value || basket.pending;
  }

  function lookup(item) {
    var url = root.dataset.lookupUrl + item.code + "/" + (item.signature ? "?s=" + encodeURIComponent(item.signature) : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (response.ok) { item.info = body; item.error = null; }
          else { item.info = null; item.error = body.detail || t("error_status", { status: response.status }); }
        });
      })
      .catch(function () { item.error = t("offline_check"); })
      .then(function () { save(); render(); });
  }
  function add(code, signature) {
    if (basket.items.some(function (item) { return item.code === code; })) {
      setHint(t("already_in_basket"), true);
      return;
    }
    var item = { code: code, signature: signature || null, info: null, error: null };
    basket.items.push(item);
    save(); render();
    lookup(item);
  }

  /* --- typed codes: immediate hints before any request --- */
  codeInput.addEventListener("input", function () {
    var code = normalise(codeInput.value);
    if (code.length === 13 && wellFormed(code) && !checkOk(code)) {
      setHint(t("bad_check_character"), true);
    } else if (code.length > 13 || (code && !new RegExp("^[" + ALPHABET + "]*$").test(code))) {
      setHint(t("bad_characters"), true);
    } else {
      setHint(defaultHint, false);
    }
  });
  el("manual-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = normalise(codeInput.value);
    if (!wellFormed(code)) { setHint(t("bad_length"), true); return; }
    if (!checkOk(code)) { setHint(t("bad_check_character"), true); return; }
    setHint(defaultHint, false);
    codeInput.value = "";
    add(code, null);
    codeInput.focus();
  });
  placeInput.addEventListener("change", render);
  serviceSelect.addEventListener("change", render);

  /* --- confirmation, idempotent and retried when the network comes back --- */
  function submit() {
    var place = currentPlace();
    var payload = {
      codes: basket.items.map(function (item) { return item.code; }),
      place: place.id, service: serviceSelect.value, signatures: {}
    };
    basket.items.forEach(function (item) { if (item.signature) { payload.signatures[item.code] = item.signature; } });
    basket.pending = true; basket.payload = payload; save(); render();
    result.textContent = t("redeeming");
    fetch(root.dataset.redeemUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": csrf, "Idempotency-Key": basket.key },
      body: JSON.stringify(basket.payload)
    }).then(function (response) {
      return response.json().then(function (body) {
        basket.pending = false;
        if (response.status === 201) {
          var count = body.redemptions.length;
          result.innerHTML = "";
          var ok = document.createElement("p"); ok.className = "ok";
          ok.textContent = t("redeemed", { count: count, total: euros(body.total_cents) });
          var link = document.createElement("a"); link.href = root.dataset.historyUrl; link.textContent = t("see_history");
          result.appendChild(ok); result.appendChild(link);
          basket = { key: newKey(), items: [], pending: false };
        } else {
          result.innerHTML = "";
          var err = document.createElement("p"); err.className = "err";
          err.textContent = (body.detail || t("error_status", { status: response.status })) + (body.cheque ? " (" + body.cheque + ")" : "");
          result.appendChild(err);
          /* A refused basket gets a new key once it is changed: keep it for a plain retry. */
          basket.key = newKey();
        }
        save(); render();
      });
    }).catch(function () {
      result.textContent = t("offline_basket");
      save();
    });
  }
  confirmButton.addEventListener("click", submit);
  function retryPending() { if (basket.pending && basket.payload && navigator.onLine !== false) { submit(); } }
  window.addEventListener("online", retryPending);
  setInterval(retryPending, 15000);

  /* --- the camera --- */
  var stream = null, detector = null, timer = null;
  var video = el("camera-video"), cameraMessage = el("camera-message");
  function loadPolyfill() {
    return new Promise(function (resolve, reject) {
      if (window.BarcodeDetectionAPI) { resolve(); return; }
      var script = document.createElement("script");
      script.src = root.dataset.polyfillUrl;
      script.onload = resolve; script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  function getDetector() {
    if (detector) { return Promise.resolve(detector); }
    var native = window.BarcodeDetector && !window.BarcodeDetectionAPI;
    var ready = native ? window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { throw new Error("no qr"); }
      return new window.BarcodeDetector({ formats: ["qr_code"] });
    }) : Promise.reject(new Error("no native detector"));
    return ready.catch(function () {
      return loadPolyfill().then(function () {
        var api = window.BarcodeDetectionAPI;
        api.setZXingModuleOverrides({
          locateFile: function (path, prefix) { return path.endsWith(".wasm") ? root.dataset.wasmUrl : prefix + path; }
        });
        return new api.BarcodeDetector({ formats: ["qr_code"] });
      });
    }).then(function (d) { detector = d; return d; });
  }
  function fromScan(text) {
    try {
      var url = new URL(text);
      var match = url.pathname.match(/\/c\/([0-9A-Za-z]+)$/);
      if (match) { return { code: normalise(match[1]), signature: url.searchParams.get("s") }; }
    } catch (e) { /* not a URL: maybe a bare code */ }
    var code = normalise(text);
    return wellFormed(code) && checkOk(code) ? { code: code, signature: null } : null;
  }
  function stopCamera() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    video.hidden = true; el("camera-start").hidden = false; el("camera-stop").hidden = true;
  }
  el("camera-start").addEventListener("click", function () {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraMessage.textContent = t("camera_needs_https");
      return;
    }
    cameraMessage.textContent = t("camera_opening");
    Promise.all([getDetector(), navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })])
      .then(function (found) {
        stream = found[1];
        video.srcObject = stream; video.hidden = false; video.play();
        el("camera-start").hidden = true; el("camera-stop").hidden = false;
        cameraMessage.textContent = t("camera_ready");
        timer = setInterval(function () {
          if (video.readyState < 2) { return; }
          found[0].detect(video).then(function (codes) {
            codes.forEach(function (barcode) {
              var scanned = fromScan(barcode.rawValue);
              if (scanned && !basket.items.some(function (i) { return i.code === scanned.code; })) {
                if (navigator.vibrate) { navigator.vibrate(80); }
                add(scanned.code, scanned.signature);
                cameraMessage.textContent = t("cheque_added", { code: display(scanned.code) });
              }
            });
          }).catch(function () { /* a frame that cannot be read */ });
        }, 350);
      })
      .catch(function () {
        cameraMessage.textContent = t("camera_failed");
        stopCamera();
      });
  });
  el("camera-stop").addEventListener("click", stopCamera);

  if (initial && !basket.items.some(function (i) { return i.code === initial.code; })) {
    add(initial.code, initial.signature);
  }
  basket.items.forEach(function (item) { if (!item.info) { lookup(item); } });
  render();
  retryPending();
})();
