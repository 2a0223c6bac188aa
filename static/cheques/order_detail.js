// The issuance progress bar of an order page, polled from progression.json while the
// cheques are being issued; the page reloads once the order is issued.
(function () {
  "use strict";
  var section = document.getElementById("issuance");
  if (!section || section.dataset.status !== "approved") { return; }
  var bar = document.getElementById("issuance-progress");
  var text = document.getElementById("issuance-text");
  var url = section.dataset.progressUrl;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 3000); return; }
        if (bar) { bar.max = data.total; bar.value = data.issued; }
        if (text) { text.textContent = data.issued + " / " + data.total + " (" +
                                     window.apticFormat.percent(data.percent) + ")"; }
        if (data.status === "approved") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
