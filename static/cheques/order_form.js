// The live price of the order form. The server computes it (cheques.pricing, the same price
// as the summary, the quote and the invoice) and formats it in the page's language; this
// script only asks again when a figure changes.
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  var output = document.getElementById("live-price");
  if (!form || !output || !form.dataset.priceUrl) { return; }
  var pending = null;
  var timer = null;

  function value(name) {
    var input = form.querySelector("[data-price='" + name + "']");
    return input ? input.value : "";
  }

  function ask() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    var query = new URLSearchParams({
      booklets: value("booklets"),
      cheques_per_booklet: value("cheques"),
      face_value: value("face-value")
    });
    fetch(form.dataset.priceUrl + "?" + query.toString(),
          { credentials: "same-origin", signal: pending.signal,
            headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (price) { output.textContent = price ? price.display : "—"; })
      .catch(function (error) { if (error.name !== "AbortError") { output.textContent = "—"; } });
  }

  function update() {
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
})();
