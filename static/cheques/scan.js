/* The scan page: typed or scanned cheques go into a basket that is redeemed in one request.
   The basket and its idempotency key survive a reload (localStorage); a confirmed basket
   goes through the outbox (outbox.js, IndexedDB) with its nonce (the Idempotency-Key), the
   moment of the scan and the device's name, so that a basket confirmed where the network
   dropped is kept and sent, in order, once it returns, and a retry never pays a cheque
   twice. A service worker (/encaisser/sw.js) keeps the page itself for when it is opened
   with no network. No framework, no CDN.

   The parts, each a plain function: addCode(code, signature) puts a cheque in the basket
   and checks it (offline, only its form, check character and signature's form);
   checkItem(item) asks the server whether it can pay the chosen service at the chosen
   place; renderBasket() draws the rows, the total, the price and why the button waits;
   submitBasket() puts the basket in the outbox and flush() sends the outbox in order
   through send(entry, token), which answers {status, body}; showSuccess(body) shows what
   was paid, renderOutbox() the banner of kept baskets. The camera (startCamera/stopCamera)
   only calls addCode. */
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
  var MAX_SESSIONS = parseInt(root.dataset.maxSessions, 10);
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
  var STORAGE = "aptic-scan-basket", DEVICE = "aptic-scan-device";
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var outbox = window.APTICOutbox;
  /* The outbox is the device's, shared by whoever signs in on it: each one sends only the
     baskets they confirmed themselves. */
  var USER = root.dataset.user;
  function mine(entry) { return !entry.user || entry.user === USER; }
  /* What the network did last: false once a request failed, true once one went through. */
  var online = navigator.onLine !== false;
  var signedOut = false;

  var el = function (id) { return document.getElementById(id); };
  var placeInput = el("place"), serviceSelect = el("service"), confirmButton = el("confirm");
  var checkButton = el("check"), deviceInput = el("device");
  var sessionsInput = el("sessions"), sessionsError = el("sessions_error");
  var hint = el("manual-hint"), codeInput = el("manual-code"), result = el("result");
  var announcer = el("announcer");
  var defaultHint = hint.textContent;

  /* What tests and other layers may call. */
  var api = window.APTICScan = {};

  /* --- small helpers --- */
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "k-" + Date.now() + "-" + Math.random().toString(16).slice(2);
  }
  function normalise(text) {
    return (text || "").toUpperCase().replace(/[\s\-\u00a0]/g, "")
      .replace(/O/g, "0").replace(/[IL]/g, "1");
  }
  function wellFormed(code) { return new RegExp("^[" + ALPHABET + "]{13}$").test(code); }
  /* A QR code's signature: "<key id>.<16 base64url characters>" (cheques.codes.sign); its
     value is checked by the server, its form here, even offline. */
  function signatureFormatOk(signature) { return /^[^.\s]{1,40}\.[A-Za-z0-9_-]{16}$/.test(signature); }
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
  /* Said once by screen readers (the live region is emptied first so that the same words
     twice are still announced). */
  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  /* --- the basket, kept across reloads --- */
  function emptyBasket() { return { key: newKey(), items: [], pending: false }; }
  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORAGE));
      if (saved && Array.isArray(saved.items)) { return saved; }
    } catch (e) { /* a corrupt basket is dropped */ }
    return emptyBasket();
  }
  var basket = load();
  function save() { localStorage.setItem(STORAGE, JSON.stringify(basket)); }
  function findItem(code) {
    return basket.items.filter(function (item) { return item.code === code; })[0] || null;
  }

  function currentPlace() {
    var id = parseInt(placeInput.value, 10);
    return places.filter(function (p) { return p.id === id; })[0] || places[0];
  }
  function currentService() {
    var slug = serviceSelect.value;
    return currentPlace().services.filter(function (s) { return s.slug === slug; })[0] || null;
  }
  /* The number of sessions typed: null when empty, NaN when it is not a whole number in
     range. */
  function sessions() {
    var text = sessionsInput.value.trim();
    if (!text) { return null; }
    if (!/^[0-9]+$/.test(text)) { return NaN; }
    var n = parseInt(text, 10);
    return n >= 1 && n <= MAX_SESSIONS ? n : NaN;
  }
  function fillServices() {
    var previous = serviceSelect.value;
    while (serviceSelect.options.length > 1) { serviceSelect.remove(1); }
    currentPlace().services.forEach(function (service) {
      var option = document.createElement("option");
      option.value = service.slug;
      option.textContent = t("service_option", {
        service: service.label, price: t("cheques", { count: service.cheques }) });
      serviceSelect.appendChild(option);
    });
    serviceSelect.value = previous;
    if (serviceSelect.value !== previous) { serviceSelect.value = ""; }
  }

  /* --- what the basket says --- */
  function counts() {
    /* `unchecked`: cheques added with no network, whose form and check character are right;
       the server checks the rest when the basket reaches it. */
    var c = { ok: 0, refused: 0, checking: 0, unchecked: 0, total: 0 };
    basket.items.forEach(function (item) {
      if (item.state === "ok") { c.ok += 1; c.total += item.info.face_value_cents; }
      else if (item.state === "refused") { c.refused += 1; }
      else if (item.state === "offline") { c.unchecked += 1; }
      else { c.checking += 1; }
    });
    c.count = c.ok + c.unchecked;
    return c;
  }
  /* The counts of cheques that pay the chosen service: exactly sessions × price, or any
     multiple of the price. The server checks the same rule (cheques.redemption). */
  function priceCheck(service, count) {
    var price = service.cheques, wanted = sessions();
    if (wanted) { return { ok: count === wanted * price, expected: [wanted * price] }; }
    var lower = count - count % price;
    var expected = [lower, lower + price].filter(function (n) { return n > 0; });
    return { ok: count > 0 && count % price === 0, expected: expected };
  }
  function expectedText(expected) {
    var counted = expected.map(function (n) { return t("cheques", { count: n }); });
    return counted.length > 1 ? t("or", { a: counted[0], b: counted[1] }) : counted[0];
  }
  function whyDisabled(c) {
    var service = currentService();
    if (basket.pending) { return t("redeeming"); }
    if (!basket.items.length) { return t("why_empty"); }
    if (!service) { return t("why_no_service"); }
    if (c.checking) { return t("why_checking"); }
    if (c.refused) { return t("why_refused", { count: c.refused }); }
    if (Number.isNaN(sessions())) { return t("why_sessions"); }
    var price = priceCheck(service, c.count);
    if (!price.ok) { return t("why_count", { expected: expectedText(price.expected), count: c.count }); }
    return "";
  }
  function renderPrice(c) {
    var service = currentService(), status = el("price-status");
    if (!service) { status.textContent = ""; return; }
    var parts = [t("price_rule", { service: service.label, price: t("cheques", { count: service.cheques }) })];
    var wanted = sessions();
    if (wanted) {
      parts.push(t("price_sessions", { count: wanted, expected: t("cheques", { count: wanted * service.cheques }) }));
    } else if (service.cheques > 1) {
      parts.push(t("price_multiple", { price: service.cheques,
        choices: [1, 2, 3].map(function (n) { return n * service.cheques; }).join(", ") }));
    }
    if (basket.items.length) {
      var price = priceCheck(service, c.count);
      parts.push(price.ok ? t("price_ok", { count: c.count / service.cheques }) : t("basket_count", { count: c.count }));
    }
    status.textContent = parts.join(" ");
  }
  function renderSessions() {
    var bad = Number.isNaN(sessions());
    sessionsError.hidden = !bad;
    sessionsError.textContent = bad ? t("sessions_invalid", { max: MAX_SESSIONS }) : "";
    sessionsInput.setAttribute("aria-invalid", bad ? "true" : "false");
    sessionsInput.setAttribute("aria-describedby", "sessions_helptext" + (bad ? " sessions_error" : ""));
    el("sessions-field").classList.toggle("has-error", bad);
  }
  function cell(row, label, content, className) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (className) { td.className = className; }
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content; }
    row.appendChild(td);
    return td;
  }
  var headers = Array.prototype.map.call(
    document.querySelectorAll("#basket-table thead th"), function (th) { return th.textContent.trim(); });
  function renderBasket() {
    var body = el("basket");
    body.innerHTML = "";
    basket.items.forEach(function (item) {
      var row = document.createElement("tr");
      var info = item.info || {};
      row.className = "row-" + (item.state || "checking");
      var code = document.createElement("code"); code.textContent = display(item.code);
      cell(row, headers[0], code, "code");
      cell(row, headers[1], info.face_value_cents ? euros(info.face_value_cents) : "—", "num");
      cell(row, headers[2], shortDate(info.valid_until) || "—", "valid");
      var state = document.createElement("span");
      if (item.state === "refused") {
        var badge = document.createElement("strong"); badge.className = "badge err";
        badge.textContent = t("refused");
        state.appendChild(badge);
        state.appendChild(document.createTextNode(" " + item.refusal.detail));
      } else {
        state.textContent = item.state === "ok" ? t("to_redeem")
          : (item.state === "offline" ? t("offline_check") : t("checking"));
      }
      cell(row, headers[3], state, "state");
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "danger"; remove.textContent = t("remove");
      remove.setAttribute("aria-label", t("remove_cheque", { code: display(item.code) }));
      remove.addEventListener("click", function () { removeCode(item.code); });
      cell(row, "", remove, "remove");
      body.appendChild(row);
    });
    var c = counts();
    el("basket-table").hidden = basket.items.length === 0;
    el("basket-empty").hidden = basket.items.length > 0;
    el("basket-total").textContent = euros(c.total);
    el("basket-count").textContent = basket.items.length ? "(" + t("cheques", { count: c.count }) + ")" : "";
    renderSessions();
    renderPrice(c);
    var why = whyDisabled(c);
    el("confirm-reason").textContent = why;
    confirmButton.disabled = why !== "";
    checkButton.disabled = why !== "";
  }
  function basketWords() {
    var c = counts();
    return t("basket_total", { count: c.ok, total: euros(c.total) });
  }

  /* --- checking a cheque for this place and service --- */
  function lookupUrl(item) {
    var query = [];
    if (item.signature) { query.push("s=" + encodeURIComponent(item.signature)); }
    query.push("place=" + encodeURIComponent(currentPlace().id));
    if (serviceSelect.value) { query.push("service=" + encodeURIComponent(serviceSelect.value)); }
    return root.dataset.lookupUrl + item.code + "/?" + query.join("&");
  }
  function checkItem(item, quiet) {
    item.state = "checking";
    var asked = lookupUrl(item);
    item.asked = asked;
    return fetch(asked, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (item.asked !== asked) { return; }  /* an answer overtaken by a later question */
          if (response.ok) {
            item.info = body;
            item.refusal = body.refusal;
            item.state = body.redeemable ? "ok" : "refused";
          } else {
            item.info = null;
            item.refusal = { code: body.code, detail: body.detail || t("error_status", { status: response.status }) };
            item.state = "refused";
          }
          if (!quiet || item.state === "refused") {
            announce(item.state === "ok" ? t("accepted", { code: display(item.code), basket: basketWords() })
              : t("refused_row", { code: display(item.code), reason: item.refusal.detail }));
          }
        });
      })
      .catch(function () { item.state = "offline"; wentOffline(); })
      .then(function () { save(); renderBasket(); });
  }
  /* A new place or service changes the answer only for cheques whose funder restricts
     services or territory (and for those not checked yet): the others are not asked again,
     which keeps a large basket under the look-up throttle. */
  function dependsOnPlaceOrService(item) {
    if (item.state === "refused") {
      return ["service_not_allowed", "territory_not_allowed"].indexOf(item.refusal && item.refusal.code) >= 0;
    }
    if (item.state !== "ok" || !item.info) { return true; }
    return (item.info.allowed_services || []).length > 0 || (item.info.territory || []).length > 0;
  }
  function checkAll() {
    basket.items.forEach(function (item) { if (dependsOnPlaceOrService(item)) { checkItem(item, true); } });
    save(); renderBasket();
  }

  /* --- adding and removing --- */
  api.addCode = function (code, signature) { return addCode(code, signature); };
  function addCode(code, signature) {
    if (signature && !signatureFormatOk(signature)) {
      setHint(t("bad_signature_format"), true);
      announce(t("bad_signature_format"));
      return null;
    }
    if (findItem(code)) {
      setHint(t("already_in_basket"), true);
      announce(t("already_in_basket"));
      return null;
    }
    var item = { code: code, signature: signature || null, info: null, refusal: null, state: "checking" };
    basket.items.push(item);
    hideSuccess();
    result.textContent = "";
    save(); renderBasket();
    announce(t("added", { code: display(code) }));
    checkItem(item);
    return item;
  }
  function removeCode(code) {
    basket.items = basket.items.filter(function (item) { return item.code !== code; });
    /* A changed basket is a new request: a new idempotency key. */
    basket.key = newKey();
    save(); renderBasket();
    announce(t("removed", { code: display(code) }) + " " + basketWords());
    codeInput.focus();
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
    if (!wellFormed(code)) { setHint(t("bad_length"), true); announce(t("bad_length")); return; }
    if (!checkOk(code)) { setHint(t("bad_check_character"), true); announce(t("bad_check_character")); return; }
    setHint(defaultHint, false);
    codeInput.value = "";
    addCode(code, null);
    codeInput.focus();
  });
  placeInput.addEventListener("change", function () { fillServices(); checkAll(); });
  serviceSelect.addEventListener("change", checkAll);
  sessionsInput.addEventListener("input", renderBasket);

  /* --- the device's name, given once, kept on the device --- */
  function deviceName() { return (localStorage.getItem(DEVICE) || "").trim(); }
  deviceInput.value = deviceName();
  deviceInput.addEventListener("change", function () {
    localStorage.setItem(DEVICE, deviceInput.value.trim().slice(0, 60));
  });

  /* --- confirmation: through the outbox, in order, idempotent --- */
  function payloadOf() {
    var payload = {
      codes: basket.items.map(function (item) { return item.code; }),
      place: currentPlace().id, service: serviceSelect.value, signatures: {}
    };
    basket.items.forEach(function (item) { if (item.signature) { payload.signatures[item.code] = item.signature; } });
    if (sessions()) { payload.sessions = sessions(); }
    return payload;
  }
  function jsonOf(response) {
    return response.json().catch(function () { return {}; });
  }
  function wentOffline() {
    if (online) { online = false; renderOutbox(); }
  }
  function cameOnline() {
    if (!online) { online = true; renderOutbox(); }
  }
  /* A CSRF token of this session: the page may come from the service worker's cache, made
     for an earlier one. Resolves with null when offline or signed out. */
  function freshToken() {
    return fetch(root.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store",
                                          headers: { Accept: "application/json" } })
      .then(function (response) {
        return jsonOf(response).then(function (body) {
          cameOnline();
          signedOut = !response.ok;
          if (response.ok) { csrf = body.csrf; return csrf; }
          renderOutbox();
          return null;
        });
      }, function () { wentOffline(); return null; });
  }
  /* One kept basket to the server: {status, body} once answered for good; null when it must
     wait (no network, the session ended, the server busy or failing). */
  function send(entry, token) {
    return fetch(root.dataset.redeemUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": token, "Idempotency-Key": entry.nonce },
      body: JSON.stringify(entry.payload)
    }).then(function (response) {
      return jsonOf(response).then(function (body) {
        cameOnline();
        if (response.status >= 500 || response.status === 429) { return null; }
        if (response.status === 401 || (response.status === 403 &&
            (["not_authenticated", "authentication_failed"].indexOf(body.code) >= 0 ||
             /CSRF/.test(body.detail || "")))) {
          signedOut = true;
          return null;
        }
        return { status: response.status, body: body };
      });
    }, function () { wentOffline(); return null; });
  }
  api.send = send;
  var flushing = null, again = false;
  /* Send the kept baskets, oldest first; stop at the first that must wait. */
  function flush() {
    if (flushing) { again = true; return flushing; }
    flushing = outbox.all().then(function (entries) {
      var pending = entries.filter(function (entry) { return entry.state === "pending" && mine(entry); });
      if (!pending.length) { return; }
      return freshToken().then(function (token) {
        if (!token) { return; }
        var i = 0;
        function next() {
          if (i >= pending.length) { return; }
          var entry = pending[i++];
          return send(entry, token).then(function (answer) {
            if (!answer) { return; }
            entry.state = answer.status === 201 ? "redeemed" : "refused";
            entry.status = answer.status;
            entry.body = answer.body;
            return outbox.put(entry).then(function () { return answered(entry); }).then(next);
          });
        }
        return next();
      });
    }).catch(function () { /* kept; tried again later */ }).then(function () {
      flushing = null;
      keepSubmittedBasket();
      renderOutbox();
      if (again) { again = false; return flush(); }
    });
    return flushing;
  }
  api.flush = function () { return flush(); };
  /* The basket confirmed on this screen could not be sent: it stays in the outbox, and the
     screen takes a new basket. */
  function keepSubmittedBasket() {
    if (!basket.submitted) { return; }
    basket = emptyBasket();
    save(); renderBasket();
    result.textContent = t("offline_basket");
    announce(t("offline_basket"));
  }
  /* The server answered a kept basket: on the screen that confirmed it, as before; any
     other one in the outbox's banner. */
  function answered(entry) {
    if (entry.nonce !== basket.submitted) {
      announce(outcomeText(entry));
      return Promise.resolve();
    }
    basket.pending = false;
    basket.submitted = null;
    return outbox.remove(entry.seq).then(function () {
      if (entry.status === 201) {
        var service = currentService();
        basket = emptyBasket();
        save(); renderBasket();
        showSuccess(entry.body, service);
        return;
      }
      showRefusal(entry.body, entry.status);
      /* A refused basket must change before it is sent again: a new key for the next one. */
      basket.key = newKey();
      save(); renderBasket();
    });
  }
  function showRefusal(body, status) {
    var refusedItem = body.cheque ? findItem(normalise(body.cheque)) : null;
    if (refusedItem) {
      refusedItem.state = "refused";
      refusedItem.refusal = { code: body.code, detail: body.detail };
    } else {
      var err = document.createElement("p"); err.className = "err";
      err.textContent = body.detail || t("error_status", { status: status });
      result.innerHTML = ""; result.appendChild(err);
    }
    announce(body.detail || t("error_status", { status: status }));
  }
  function submitBasket() {
    var service = currentService();
    var payload = payloadOf();
    payload.scanned_at = new Date().toISOString();
    if (deviceName()) { payload.device = deviceName(); }
    var entry = { nonce: basket.key, user: USER, payload: payload, scanned_at: payload.scanned_at,
                  place_name: currentPlace().name, service_label: service ? service.label : "",
                  count: basket.items.length, state: "pending" };
    basket.pending = true;
    basket.submitted = entry.nonce;
    save(); renderBasket();
    result.textContent = "";
    announce(t("redeeming"));
    return outbox.add(entry).then(flush, function () {
      /* Not even kept: the basket stays on the screen, to confirm again. */
      basket.pending = false; basket.submitted = null; save(); renderBasket();
    });
  }
  api.submitBasket = function () { return submitBasket(); };
  api.renderBasket = function () { renderBasket(); };
  api.basket = function () { return basket; };
  confirmButton.addEventListener("click", function () {
    if (!confirmButton.disabled) { submitBasket(); }
  });

  /* --- "Tester la validité": what the server would answer, nothing redeemed --- */
  checkButton.addEventListener("click", function () {
    if (checkButton.disabled) { return; }
    result.textContent = "";
    freshToken().then(function (token) {
      if (!token) {
        result.textContent = signedOut ? t("signed_out") : t("check_offline");
        announce(result.textContent);
        return;
      }
      return fetch(root.dataset.checkUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-CSRFToken": token },
        body: JSON.stringify(payloadOf())
      }).then(function (response) {
        return jsonOf(response).then(function (body) {
          if (response.ok) {
            var ok = document.createElement("p"); ok.className = "ok";
            ok.textContent = t("check_ok", { count: body.cheques.length, total: euros(body.total_cents) });
            result.innerHTML = ""; result.appendChild(ok);
            announce(ok.textContent);
          } else {
            showRefusal(body, response.status);
            save(); renderBasket();
          }
        });
      }, function () {
        wentOffline();
        result.textContent = t("check_offline");
        announce(result.textContent);
      });
    });
  });

  /* --- the outbox's banner: offline, baskets waiting, what became of each --- */
  var moment = window.apticFormat.dateTime;
  function outcomeText(entry) {
    var values = { when: moment(entry.scanned_at), count: entry.count,
                   place: entry.place_name, service: entry.service_label };
    if (entry.state === "redeemed") {
      values.total = euros(entry.body.total_cents);
      return t("outcome_redeemed", values);
    }
    values.reason = (entry.body && entry.body.detail) || t("error_status", { status: entry.status });
    return t("outcome_refused", values);
  }
  function renderOutbox() {
    outbox.all().then(function (entries) {
      entries = entries.filter(mine);
      var banner = el("outbox");
      var waiting = entries.filter(function (entry) {
        return entry.state === "pending" && entry.nonce !== basket.submitted; });
      var done = entries.filter(function (entry) { return entry.state !== "pending"; });
      el("outbox-offline").hidden = online;
      el("outbox-signed-out").hidden = !signedOut;
      var pendingLine = el("outbox-pending");
      pendingLine.hidden = !waiting.length;
      pendingLine.textContent = waiting.length ? t("pending_baskets", { count: waiting.length }) : "";
      var list = el("outbox-outcomes");
      list.innerHTML = "";
      done.forEach(function (entry) {
        var li = document.createElement("li");
        li.className = entry.state === "redeemed" ? "ok" : "err";
        li.setAttribute("data-nonce", entry.nonce);
        li.textContent = outcomeText(entry);
        list.appendChild(li);
      });
      el("outbox-clear").hidden = !done.length;
      banner.hidden = online && !signedOut && !waiting.length && !done.length;
    });
  }
  api.renderOutbox = renderOutbox;
  el("outbox-clear").addEventListener("click", function () {
    outbox.all().then(function (entries) {
      return Promise.all(entries.filter(function (entry) { return entry.state !== "pending" && mine(entry); })
        .map(function (entry) { return outbox.remove(entry.seq); }));
    }).then(renderOutbox);
  });
  window.addEventListener("online", function () {
    cameOnline();
    /* The cheques added with no network are checked now. */
    basket.items.forEach(function (item) { if (item.state === "offline") { checkItem(item, true); } });
    flush();
  });
  window.addEventListener("offline", wentOffline);
  window.setInterval(flush, 10000);

  /* --- the page itself, kept for when it opens with no network --- */
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(root.dataset.serviceWorkerUrl)
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function () { root.dataset.offlineReady = "true"; })
      .catch(function () { /* the page still works online */ });
  }

  /* --- what the beneficiary sees once it is paid --- */
  function showSuccess(body, service) {
    var count = body.redemptions.length;
    el("success-title").textContent = t("redeemed", { count: count });
    el("success-total").textContent = euros(body.total_cents);
    el("success-service").textContent = service ? t("redeemed_for", { service: service.label }) : "";
    var list = el("success-list");
    list.innerHTML = "";
    body.redemptions.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.code + " — " + euros(r.amount_cents);
      list.appendChild(li);
    });
    el("scan-steps").hidden = true;
    el("success").hidden = false;
    el("success").focus();
    stopCamera();
    announce(t("redeemed", { count: count }) + " — " + euros(body.total_cents) + " " +
             (service ? t("redeemed_for", { service: service.label }) : ""));
  }
  function hideSuccess() {
    el("success").hidden = true;
    el("scan-steps").hidden = false;
  }
  el("new-basket").addEventListener("click", function () {
    hideSuccess();
    codeInput.focus();
  });

  /* --- the camera --- */
  var stream = null, detector = null, scanning = false, audio = null;
  var video = el("camera-video"), cameraMessage = el("camera-message");
  var cameraStart = el("camera-start"), cameraStop = el("camera-stop");

  /* The polyfill (barcode-detector, zxing-cpp in WebAssembly) installs its BarcodeDetector
     only where the browser has none: a native one without QR codes is set aside while it
     loads. */
  function loadPolyfill() {
    return new Promise(function (resolve, reject) {
      var native = window.BarcodeDetector;
      if (native) { try { delete window.BarcodeDetector; } catch (e) { /* kept */ } }
      var script = document.createElement("script");
      script.src = root.dataset.polyfillUrl;
      script.onload = function () {
        var Polyfill = window.BarcodeDetector;
        if (native) { window.BarcodeDetector = native; }
        if (!Polyfill || Polyfill === native) { reject(new Error("no polyfill")); return; }
        window.BarcodeDetectionAPI.setZXingModuleOverrides({
          locateFile: function (path, prefix) {
            return path.endsWith(".wasm") ? root.dataset.wasmUrl : prefix + path;
          }
        });
        resolve(Polyfill);
      };
      script.onerror = function () { if (native) { window.BarcodeDetector = native; } reject(new Error("polyfill")); };
      document.head.appendChild(script);
    });
  }
  /* The native detector where it reads QR codes, the polyfill otherwise. */
  function getDetector() {
    if (detector) { return Promise.resolve(detector); }
    var Native = window.BarcodeDetector;
    var native = Native && Native.getSupportedFormats ? Native.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { throw new Error("no qr"); }
      return { kind: "native", detector: new Native({ formats: ["qr_code"] }) };
    }) : Promise.reject(new Error("no native detector"));
    return native.catch(function () {
      return loadPolyfill().then(function (Polyfill) {
        return { kind: "polyfill", detector: new Polyfill({ formats: ["qr_code"] }) };
      });
    }).then(function (found) {
      root.dataset.detector = found.kind;
      detector = found.detector;
      return detector;
    });
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
  function beep() {
    if (!audio) { return; }
    try {
      var oscillator = audio.createOscillator(), gain = audio.createGain();
      oscillator.frequency.value = 880; gain.gain.value = 0.15;
      oscillator.connect(gain); gain.connect(audio.destination);
      oscillator.start(); oscillator.stop(audio.currentTime + 0.12);
    } catch (e) { /* no sound, the screen and the vibration still say it */ }
  }
  function confirmScan(code) {
    if (navigator.vibrate) { navigator.vibrate(80); }
    beep();
    var frame = el("camera-frame");
    frame.classList.remove("scanned"); void frame.offsetWidth; frame.classList.add("scanned");
    cameraMessage.textContent = t("cheque_added", { code: display(code) });
  }
  function scanFrame() {
    if (!scanning) { return; }
    var next = function () { if (scanning) { window.setTimeout(scanFrame, 120); } };
    if (video.readyState < 2) { next(); return; }
    detector.detect(video).then(function (found) {
      found.forEach(function (barcode) {
        var scanned = fromScan(barcode.rawValue);
        if (scanned && !findItem(scanned.code)) {
          addCode(scanned.code, scanned.signature);
          confirmScan(scanned.code);
        }
      });
    }).catch(function () { /* a frame that cannot be read */ }).then(next);
  }
  function stopCamera() {
    scanning = false;
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    video.srcObject = null;
    el("camera-frame").hidden = true; cameraStart.hidden = !window.isSecureContext; cameraStop.hidden = true;
  }
  function startCamera() {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraMessage.textContent = t("camera_needs_https");
      return;
    }
    /* Sound must be allowed by a tap: this one. */
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!audio && AudioContext) { try { audio = new AudioContext(); } catch (e) { audio = null; } }
    cameraMessage.textContent = t("camera_opening");
    Promise.all([getDetector(), navigator.mediaDevices.getUserMedia(
      { video: { facingMode: { ideal: "environment" } }, audio: false })])
      .then(function (found) {
        if (document.hidden) { found[1].getTracks().forEach(function (track) { track.stop(); }); return; }
        stream = found[1];
        video.srcObject = stream; el("camera-frame").hidden = false;
        video.play().catch(function () { /* muted inline video plays */ });
        cameraStart.hidden = true; cameraStop.hidden = false;
        cameraMessage.textContent = t("camera_ready");
        scanning = true;
        scanFrame();
      })
      .catch(function () {
        cameraMessage.textContent = t("camera_failed");
        stopCamera();
      });
  }
  cameraStart.addEventListener("click", startCamera);
  cameraStop.addEventListener("click", function () { stopCamera(); cameraMessage.textContent = t("camera_stopped"); });
  /* A hidden page (another app, a locked phone) lets go of the camera. */
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && stream) { stopCamera(); cameraMessage.textContent = t("camera_stopped"); }
  });
  window.addEventListener("pagehide", stopCamera);
  if (!window.isSecureContext) {
    cameraStart.hidden = true;
    cameraMessage.textContent = t("camera_needs_https");
  }

  /* --- start --- */
  fillServices();
  /* A basket confirmed before the page was closed is in the outbox: a new one here. (One
     kept by an earlier version of this page, with its payload, joins the outbox first.) */
  var kept = Promise.resolve();
  if (basket.pending && basket.payload && !basket.submitted) {
    kept = outbox.add({ nonce: basket.key, user: USER, payload: basket.payload, scanned_at: new Date().toISOString(),
                        place_name: currentPlace().name, service_label: "",
                        count: basket.payload.codes.length, state: "pending" });
  }
  if (basket.pending || basket.submitted) {
    basket = emptyBasket();
    save();
  }
  /* A basket kept from an earlier visit is checked again: the place, the service or the
     cheques may have changed since. */
  basket.items.forEach(function (item) { checkItem(item, true); });
  if (initial && !findItem(initial.code)) {
    addCode(initial.code, initial.signature);
  }
  renderBasket();
  kept.then(function () { renderOutbox(); flush(); });
})();
