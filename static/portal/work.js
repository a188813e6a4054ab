/* Scenario and PPA pages (docs/portal.md, "Scenarios and PPA"): a run's live progress over the tenant's
   event websocket (polling the run's status when the socket fails), busy buttons on long submits, and the
   valuation form's source switch. No inline script anywhere: the page hands data over in json_script. */
(function () {
  "use strict";
  var FINISHED = ["succeeded", "failed", "cancelled", "timed_out"];
  var LABELS = { queued: "Queued: waiting for a worker…", running: "Running…", succeeded: "Succeeded",
                 failed: "Failed", cancelled: "Cancelled", timed_out: "Timed out" };
  var POLL_MS = 3000;

  // <form data-busy-label="Saving…">: the pressed button says what is happening and cannot be pressed twice.
  function initBusy(root) {
    root.querySelectorAll("form[data-busy-label]").forEach(function (form) {
      if (form.dataset.busyReady) return;
      form.dataset.busyReady = "1";
      form.addEventListener("submit", function (event) {
        var button = event.submitter || form.querySelector("button[type=submit]");
        if (!button || button.classList.contains("visually-hidden")) button = form.querySelector(".button");
        if (!button) return;
        button.setAttribute("aria-busy", "true");
        button.textContent = form.dataset.busyLabel;
        // Disabled after the submit has read the button's name and value.
        setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  }

  // <form data-source-switch>: shows the [data-source] block of the chosen radio (all of them without script).
  function initSourceSwitch(root) {
    root.querySelectorAll("form[data-source-switch]").forEach(function (form) {
      if (form.dataset.switchReady) return;
      form.dataset.switchReady = "1";
      function apply() {
        var chosen = form.querySelector("input[name=source]:checked");
        form.querySelectorAll("[data-source]").forEach(function (block) {
          block.hidden = chosen ? block.dataset.source !== chosen.value : false;
        });
      }
      form.addEventListener("change", apply);
      apply();
    });
  }

  // <section data-run-live="#status-json" data-status-url="…">: the run's state and progress, live.
  function initLive(root) {
    root.querySelectorAll("[data-run-live]").forEach(function (el) {
      if (el.dataset.liveReady) return;
      el.dataset.liveReady = "1";
      var initial = JSON.parse(document.querySelector(el.dataset.runLive).textContent);
      var heading = el.querySelector("#run-state");
      var bar = el.querySelector("#run-progress");
      var percent = el.querySelector("#run-percent");
      var channel = el.querySelector("#run-channel");
      var done = false;
      var timer = null;

      function show(state) {
        if (done) return;
        var value = Math.round(state.progress_percent || 0);
        bar.value = value;
        bar.textContent = value + " %";
        percent.textContent = value + " %";
        heading.textContent = LABELS[state.status] || state.status;
        var badge = document.querySelector("#run-badge .badge");
        if (badge) badge.textContent = state.status === "running" ? "running " + value + " %" : state.status;
        if (FINISHED.indexOf(state.status) >= 0) {
          done = true;
          if (timer) clearInterval(timer);
          heading.textContent = (LABELS[state.status] || state.status) + ". Loading the result…";
          window.location.reload();
        }
      }
      function poll() {
        fetch(el.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
          .then(show)
          .catch(function () { channel.textContent = "Cannot reach the server; trying again…"; });
      }
      function startPolling(reason) {
        if (timer || done) return;
        channel.textContent = reason + " Checking every " + POLL_MS / 1000 + " seconds instead.";
        poll();
        timer = setInterval(poll, POLL_MS);
      }
      show(initial);
      if (!("WebSocket" in window)) { startPolling("Live updates are unavailable."); return; }
      var opened = false;
      var socket;
      try {
        socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/events/");
      } catch (error) {
        startPolling("Live updates are unavailable.");
        return;
      }
      socket.addEventListener("open", function () { opened = true; channel.textContent = "Live updates on"; });
      socket.addEventListener("message", function (message) {
        var event = JSON.parse(message.data);
        if (event.type === "stream.ready") { poll(); return; } // catch up on what happened before it opened
        if (event.type && event.type.indexOf("scenario.run.") === 0 && event.data && event.data.run_id === initial.run_id) {
          show(event.data);
        }
      });
      socket.addEventListener("close", function () {
        if (!done) startPolling(opened ? "Live updates stopped." : "Live updates are unavailable.");
      });
      setTimeout(function () { if (!opened) startPolling("Live updates are slow to connect."); }, 5000);
    });
  }

  function init(root) {
    initBusy(root);
    initSourceSwitch(root);
    initLive(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
