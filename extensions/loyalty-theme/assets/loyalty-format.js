/* The one formatting helper of the theme's scripts: numbers with the shopper's separators,
   money in the shop's currency, "1 point" / "2 points", dates (a business date as it is, an
   instant in the shop's zone), words from locales/ with [name] slots, and a script loader.
   Plain browser Intl; no framework. */
(function () {
  "use strict";
  if (window.LoyaltyFormat) return;
  var lang = document.documentElement.lang || navigator.language || "en";
  var loading = {};

  function number(n) {
    return new Intl.NumberFormat(lang).format(Number(n));
  }

  function money(amount, currency) {
    var n = Number(amount);
    if (currency) {
      try {
        return new Intl.NumberFormat(lang, { style: "currency", currency: currency }).format(n);
      } catch (e) { /* an unknown code: the figure and the code below */ }
    }
    var figure = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
    return currency ? figure + " " + currency : figure;
  }

  function fill(template, values) {
    return String(template || "").replace(/\[(\w+)\]/g, function (slot, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : slot;
    });
  }

  function points(n, words) {
    var key = new Intl.PluralRules(lang).select(Number(n)) === "one" ? "points_one" : "points_other";
    return fill(words[key], { n: number(n) });
  }

  function date(iso, zone) {
    // "2027-05-21" is a business date already in the shop's zone: shown as that day.
    var day = /^\d{4}-\d{2}-\d{2}$/.test(iso);
    var options = { dateStyle: "medium", timeZone: day ? "UTC" : (zone || undefined) };
    try {
      return new Intl.DateTimeFormat(lang, options).format(new Date(day ? iso + "T00:00:00Z" : iso));
    } catch (e) {
      return new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(iso));
    }
  }

  function words() {
    var all = {};
    document.querySelectorAll("script[data-loyalty-strings]").forEach(function (node) {
      try { Object.assign(all, JSON.parse(node.textContent)); } catch (e) { /* a broken copy: others remain */ }
    });
    return all;
  }

  function load(src) {
    loading[src] = loading[src] || new Promise(function (done, fail) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = done;
      script.onerror = fail;
      document.head.appendChild(script);
    });
    return loading[src];
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : Promise.reject(answer.status); });
  }

  window.LoyaltyFormat = { number: number, money: money, fill: fill, points: points, date: date,
    words: words, load: load, getJSON: getJSON };
})();
