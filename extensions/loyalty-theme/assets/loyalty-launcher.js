/* The launcher's button: opens and closes the panel. Nothing else loads until the first
   open, when the formatting helper and assets/loyalty-panel.js are fetched. Escape closes
   the panel and gives the focus back to the button. */
(function () {
  "use strict";
  var root = document.getElementById("loyalty-launcher");
  if (!root) return;
  var button = root.querySelector(".loyalty-launcher__button");
  var panel = root.querySelector(".loyalty-panel");
  var ready = null;

  function load(src) {
    return new Promise(function (done, fail) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = done;
      script.onerror = fail;
      document.head.appendChild(script);
    });
  }

  function open() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    ready = ready || (window.LoyaltyFormat ? Promise.resolve() : load(root.dataset.formatSrc))
      .then(function () { return window.LoyaltyPanel || load(root.dataset.panelSrc); });
    ready.then(function () { window.LoyaltyPanel.open(root, panel, close); }, function () { ready = null; });
  }

  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", function () { if (panel.hidden) { open(); } else { close(); } });
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) close();
  });
})();
