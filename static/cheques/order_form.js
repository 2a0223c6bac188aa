// The live price of the order form: cheques × face value + the per-booklet fee.
// The fee (in cents) comes from the form's data-fee-cents attribute; the server recomputes
// the price on the summary page, this is only a preview.
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  var output = document.getElementById("live-price");
  if (!form || !output) { return; }
  var fee = parseInt(form.dataset.feeCents || "0", 10) || 0;
  var euros = new Intl.NumberFormat(document.documentElement.lang || "fr",
                                    { style: "currency", currency: "EUR" });

  function number(name) {
    var input = form.querySelector("[data-price='" + name + "']");
    if (!input) { return NaN; }
    return parseFloat(String(input.value).replace(",", "."));
  }

  function update() {
    var booklets = number("booklets");
    var cheques = number("cheques");
    var value = number("face-value");
    if (!(booklets > 0) || !(cheques > 0) || !(value > 0)) {
      output.textContent = "—";
      return;
    }
    var cents = Math.round(booklets) * (Math.round(cheques) * Math.round(value * 100) + fee);
    output.textContent = euros.format(cents / 100);
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
