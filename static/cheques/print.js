/* The printing block of an order page: polls the progress JSON while the PDF is being
   printed, moves the bar, then shows the download button. No framework, no inline code. */
(function () {
  "use strict";
  var ACTIVE = ["queued", "rendering", "merging"];
  var WAITING_ORDER = ["approved", "issued"];

  function setup(root) {
    if (root.dataset.printReady) { return; }
    root.dataset.printReady = "1";
    var url = root.dataset.statusUrl;
    var find = function (name) { return root.querySelector("[data-print-" + name + "]"); };
    var idlePolls = 0;

    function show(status) {
      root.dataset.state = status.state || "";
      find("label").textContent = status.state_label;
      find("bar").value = status.percent;
      find("bar").textContent = window.apticFormat.percent(status.percent);
      find("done").textContent = status.done;
      find("total").textContent = status.total;
      find("percent").textContent = status.percent;
      var warnings = find("warnings");
      warnings.textContent = "";
      status.warnings.forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        warnings.appendChild(item);
      });
      warnings.hidden = status.warnings.length === 0;
      var download = find("download");
      if (status.download_url) { find("link").href = status.download_url; }
      download.hidden = !status.download_url;
      root.classList.toggle("print-failed", status.state === "failed");
      find("stalled").hidden = !status.stalled;
    }

    function shouldPoll(state) {
      if (ACTIVE.indexOf(state) !== -1) { return true; }
      // Not printed yet, but issuance is running or has just ended: printing will start.
      return !state && WAITING_ORDER.indexOf(root.dataset.orderStatus) !== -1
        && idlePolls++ < 60;
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (status) {
          show(status);
          if (shouldPoll(status.state)) { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }

    if (shouldPoll(root.dataset.state)) { window.setTimeout(poll, 500); }
  }

  document.querySelectorAll("[data-print-progress]").forEach(setup);
})();
