/* Numbers, money and dates in the page's language, for every script of the site: the
   server's conventions (aptic.l10n, aptic/formats), through Intl and the locale the page
   names on <html data-locale>. */
window.apticFormat = (function () {
  "use strict";
  var root = document.documentElement;
  var locale = root.getAttribute("data-locale") || root.lang || "fr-FR";
  var money = new Intl.NumberFormat(locale, {style: "currency", currency: "EUR"});
  var number = new Intl.NumberFormat(locale);
  var percent = new Intl.NumberFormat(locale, {style: "percent", maximumFractionDigits: 1});
  var shortDate = new Intl.DateTimeFormat(locale, {
    day: "2-digit", month: "2-digit", year: "numeric", timeZone: "UTC"});
  /* Moments as the site shows them: the wall clock in Paris, whatever the device's zone. */
  var moment = new Intl.DateTimeFormat(locale, {
    day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZone: "Europe/Paris"});
  return {
    locale: locale,
    /* 1050 → « 10,50 € » or « €10.50 » */
    euros: function (cents) { return money.format(cents / 100); },
    number: function (value) { return number.format(value); },
    /* 42 → « 42 % » or « 42% » */
    percent: function (value) { return percent.format(value / 100); },
    /* "2027-01-31" → « 31/01/2027 » (a calendar day: no time zone shift) */
    date: function (iso) {
      return iso ? shortDate.format(new Date(iso.slice(0, 10) + "T00:00:00Z")) : "";
    },
    /* "2026-10-25T01:30:00Z" → « 25/10/2026 03:30 » (Paris) */
    dateTime: function (iso) { return iso ? moment.format(new Date(iso)) : ""; }
  };
}());
