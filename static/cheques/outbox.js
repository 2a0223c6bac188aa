/* The scan page's outbox: baskets kept on the device (IndexedDB) until the server has
   answered them, in the order they were confirmed. Each entry is
   {seq, nonce, payload, scanned_at, place_name, service_label, count, state, status, body}:
   `nonce` is the basket's Idempotency-Key, so sending it twice pays it once; `state` is
   "pending", then "redeemed" or "refused" with the server's answer (status, body).
   Where IndexedDB is refused (a private window of an old browser), the entries live as long
   as the page. No framework. */
(function () {
  "use strict";
  var NAME = "aptic-scan", STORE = "baskets";
  var memory = null;  /* the fallback: {seq: entry} */
  var opened = null;

  function open() {
    if (opened) { return opened; }
    opened = new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = function () {
        var store = request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
        store.createIndex("nonce", "nonce", { unique: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    }).catch(function () { memory = memory || {}; return null; });
    return opened;
  }
  /* Run `work(store)` in a transaction; resolves with the request's result once committed. */
  function run(mode, work) {
    return open().then(function (db) {
      if (!db) { return null; }
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  var lastSeq = 0;

  window.APTICOutbox = {
    /* Keep a new entry; resolves with its seq. */
    add: function (entry) {
      return run("readwrite", function (store) { return store.add(entry); }).then(function (seq) {
        if (memory) { seq = ++lastSeq; memory[seq] = entry; }
        entry.seq = seq;
        return seq;
      });
    },
    put: function (entry) {
      return run("readwrite", function (store) { return store.put(entry); }).then(function () {
        if (memory) { memory[entry.seq] = entry; }
      });
    },
    remove: function (seq) {
      return run("readwrite", function (store) { return store.delete(seq); }).then(function () {
        if (memory) { delete memory[seq]; }
      });
    },
    /* Every entry, oldest first. */
    all: function () {
      return run("readonly", function (store) { return store.getAll(); }).then(function (found) {
        if (memory) {
          return Object.keys(memory).map(Number).sort(function (a, b) { return a - b; })
            .map(function (seq) { return memory[seq]; });
        }
        return found || [];
      });
    }
  };
})();
