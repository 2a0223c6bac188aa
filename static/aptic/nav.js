/* The header menu on a phone: folded behind its "Menu" button, opened and closed by it
   (and closed by Escape). Without this script the menu simply stays open. */
(function () {
  "use strict";
  var nav = document.querySelector(".site-nav");
  if (!nav) { return; }
  var button = nav.querySelector(".menu-toggle");
  function setOpen(open) {
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  }
  nav.classList.add("collapsible");
  button.hidden = false;
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  nav.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      setOpen(false);
      button.focus();
    }
  });
}());
