/* Aurum watchlist: live notices. Opens the tenant's event stream (/ws/events/, the portal session
   authenticates it) and, for each "watchlist.notice" addressed to this member, shows a banner without a
   reload and tells the home page's watchlist panel to refresh (event "aurum:notice" on <body>).
   No inline script, no eval (Content-Security-Policy); documented in docs/portal.md. */
(function () {
  "use strict";
  if (window.aurumWatchlist) return;
  window.aurumWatchlist = true;

  var seen = {};
  var retry = 1000;

  function region() {
    var box = document.getElementById("notice-banners");
    if (!box) {
      box = document.createElement("div");
      box.id = "notice-banners";
      box.className = "notice-banners";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    return box;
  }

  function number(value, digits) {
    return value === null || value === undefined ? "" : Number(value).toFixed(digits);
  }

  function show(data) {
    var banner = document.createElement("div");
    banner.className = "notice-banner";
    var text = document.createElement("p");
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = data.curve || data.curve_key;
    text.appendChild(link);
    var move = " moved " + number(data.diff_abs, 3) + (data.unit ? " " + data.unit : "");
    if (data.diff_pct !== null && data.diff_pct !== undefined) move += " (" + number(data.diff_pct, 2) + " %)";
    text.appendChild(document.createTextNode(move + " at " + data.tenor + ", " + data.prev_asof + " → " + data.asof));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "button-quiet";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () { banner.remove(); });
    banner.appendChild(text);
    banner.appendChild(close);
    region().appendChild(banner);
    document.body.dispatchEvent(new CustomEvent("aurum:notice", { detail: data }));
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/events/");
    socket.addEventListener("open", function () { retry = 1000; });
    socket.addEventListener("message", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event.type !== "watchlist.notice" || seen[event.id]) return;
      seen[event.id] = true; // delivery is at least once: a repeat shows nothing
      show(event.data);
    });
    socket.addEventListener("close", function (closed) {
      if (closed.code >= 4400 && closed.code < 4500 && closed.code !== 4429) return; // signed out: stop
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
