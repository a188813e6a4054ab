/* Uploads on /ingestion/: each chosen workbook is sent on its own request with a progress bar, one after the
   other; the answer says which run took it (or why not), and the runs list is refreshed. Files over the
   limit are refused here, before a byte is sent, with the API's message. Without script the form posts
   every file at once and the page answers with a message per file. */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function refreshRuns() {
    var live = document.getElementById("live");
    if (live && window.htmx) {
      window.htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#live", swap: "outerHTML" });
    }
  }

  function finish(item, ok, message, link) {
    item.row.classList.add(ok ? "upload-done" : "upload-error");
    item.status.textContent = message;
    if (link) {
      item.status.textContent = message + " ";
      var a = el("a", null, "Open run #" + link.id);
      a.href = link.url;
      item.status.appendChild(a);
    }
    item.progress.value = 100;
    if (!ok) item.progress.hidden = true;
  }

  function send(form, item, done) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    data.append("files", item.file, item.file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round((event.loaded / event.total) * 100);
      item.progress.value = percent;
      item.status.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Checking…";
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      var result = body && body.files && body.files[0];
      if (result && !result.error) {
        var message = result.created ? "Queued." : "These exact bytes were already loaded.";
        finish(item, true, message, { id: result.run_id, url: result.url });
      } else if (result && result.error) {
        finish(item, false, result.error, result.run_id ? { id: result.run_id, url: "/ingestion/runs/" + result.run_id + "/" } : null);
      } else if (body && body.error) {
        finish(item, false, body.error);
      } else if (xhr.status === 403) {
        finish(item, false, "Not allowed: only the market-data operators' traders and admins load workbooks.");
      } else {
        finish(item, false, "The server answered " + xhr.status + ". Reload the page and try again.");
      }
      done();
    });
    xhr.addEventListener("error", function () {
      finish(item, false, "The upload did not reach the server. Check your connection and try again.");
      done();
    });
    xhr.send(data);
  }

  function init() {
    var form = document.getElementById("upload-form");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var input = form.querySelector("input[type=file]");
    var list = document.getElementById("upload-list");
    var error = document.getElementById("files-error");
    var button = form.querySelector("button[type=submit]");
    var limit = Number(form.dataset.limit);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) {
        error.textContent = "Choose one or more EOD workbooks (.xlsx) to upload.";
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      error.hidden = true;
      input.removeAttribute("aria-invalid");
      var items = files.map(function (file) {
        var row = el("li", "upload-item");
        var progress = el("progress");
        progress.max = 100;
        progress.value = 0;
        progress.setAttribute("aria-label", "Upload of " + file.name);
        var item = { file: file, row: row, progress: progress, status: el("span", "upload-status", "Waiting…") };
        row.appendChild(el("span", "upload-name", file.name));
        row.appendChild(item.status);
        row.appendChild(progress);
        list.appendChild(row);
        return item;
      });
      button.disabled = true;
      var next = 0;
      (function step() {
        if (next >= items.length) {
          button.disabled = false;
          form.reset();
          refreshRuns();
          return;
        }
        var item = items[next++];
        if (item.file.size > limit) {
          finish(item, false, "'" + item.file.name + "' is " + item.file.size.toLocaleString("en-US") +
            " bytes; the limit is " + limit.toLocaleString("en-US") + " bytes. It was not sent.");
          step();
          return;
        }
        send(form, item, function () { refreshRuns(); step(); });
      })();
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
