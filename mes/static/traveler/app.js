// Traveler on the shop floor: a visible banner when the connection drops, and nothing typed is lost.
// Everything here is an enhancement: each form and link works without it (plain POST, plain href).
(function () {
  "use strict";
  var banner = null;
  function showOffline(off) {
    banner = banner || document.getElementById("offline-banner");
    if (banner) banner.hidden = !off;
  }
  window.addEventListener("offline", function () { showOffline(true); });
  window.addEventListener("online", function () { showOffline(false); });
  document.addEventListener("htmx:sendError", function () { showOffline(true); });
  document.addEventListener("htmx:timeout", function () { showOffline(true); });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail && e.detail.successful !== undefined && e.detail.xhr && e.detail.xhr.status) showOffline(false);
  });
  document.addEventListener("DOMContentLoaded", function () { showOffline(!navigator.onLine); });

  // A refused action answers its form again with the error beside the field (409, 422, 403…): show it.
  // In DEBUG, django-htmx's helper replaces the whole page with any 400/403/404/500 answer (to show
  // Django's error page); a piece of page is not an error page, so it goes to htmx's swap instead.
  window.addEventListener("htmx:beforeOnLoad", function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status < 500 && !/^\s*<(!doctype|html)/i.test(xhr.responseText || "")) {
      e.stopPropagation();
    }
  }, true);
  if (window.htmx) {
    htmx.config.timeout = 15000; // a request hanging on flaky Wi-Fi ends, so the banner shows
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(400|403|404|409|422|429)", swap: true, error: false },
      { code: "[45]..", swap: false, error: true }
    ];
  }

  // --- What the operator typed is kept on the tablet until the server has it ---------------------------
  // Inputs with data-keep="<traveler>:<step>:<characteristic>" are saved on every keystroke; an element
  // with data-saved-key names a value the server now holds, which is then forgotten.
  var KEEP = "traveler.keep:";
  function storage() {
    try { return window.localStorage; } catch (err) { return null; }
  }
  function remember(el) {
    var s = storage();
    if (!s || !el.dataset.keep) return;
    try {
      if (el.type === "radio" && !el.checked) return;
      if (el.value === "") s.removeItem(KEEP + el.dataset.keep);
      else s.setItem(KEEP + el.dataset.keep, el.value);
    } catch (err) { /* storage full or refused: typing still works */ }
  }
  function restore(root) {
    var s = storage();
    if (!s || !root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-saved-key]").forEach(function (el) { s.removeItem(KEEP + el.dataset.savedKey); });
    if (root.dataset && root.dataset.savedKey) s.removeItem(KEEP + root.dataset.savedKey);
    root.querySelectorAll("[data-keep]").forEach(function (el) {
      var kept = s.getItem(KEEP + el.dataset.keep);
      if (kept === null) return;
      if (el.type === "radio") {
        var form = el.form;
        var anyChecked = form && form.querySelector("input[type=radio][name='" + el.name + "']:checked");
        if (!anyChecked && el.value === kept) { el.checked = true; if (window.htmx) htmx.trigger(el, "change"); }
      } else if (el.value === "") {
        el.value = kept;
        el.classList.add("restored");
        if (window.htmx) htmx.trigger(el, el.tagName === "SELECT" ? "change" : "input");
      }
    });
  }
  document.addEventListener("input", function (e) { if (e.target.dataset && e.target.dataset.keep) remember(e.target); });
  document.addEventListener("change", function (e) { if (e.target.dataset && e.target.dataset.keep) remember(e.target); });
  document.addEventListener("DOMContentLoaded", function () { restore(document); });
  // htmx binds a new screen's triggers when it settles, some 20 ms after showing it: what an operator (or a
  // scanner) typed into a value in between raised no event htmx saw. Judge it now, as if just typed.
  function catchUp(root) {
    if (!window.htmx || !root || !root.querySelectorAll) return;
    root.querySelectorAll("input[hx-trigger^='input']").forEach(function (el) {
      if (el.value !== el.defaultValue) htmx.trigger(el, "input");
    });
  }
  document.addEventListener("htmx:load", function (e) { catchUp(e.detail.elt); restore(e.detail.elt); });

  // A value sent while the connection was down is sent again when it is back, with the same
  // Idempotency-Key: if the first send had landed, the server answers with its first answer instead of
  // saving the value twice (mes/idempotency.py). A new key is made once the server has answered.
  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!(elt && elt.matches && elt.matches("form[data-retry]"))) return;
    if (!elt.dataset.idempotencyKey) elt.dataset.idempotencyKey = newKey();
    e.detail.headers["Idempotency-Key"] = elt.dataset.idempotencyKey;
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail && e.detail.elt;
    var answered = e.detail && e.detail.xhr && e.detail.xhr.status > 0 && e.detail.xhr.status < 500;
    if (answered && elt && elt.dataset && elt.dataset.idempotencyKey) delete elt.dataset.idempotencyKey;
  });
  var pending = [];
  function queueRetry(e) {
    var elt = e.detail && e.detail.elt;
    if (elt && elt.matches && elt.matches("form[data-retry]") && pending.indexOf(elt) < 0) pending.push(elt);
  }
  document.addEventListener("htmx:sendError", queueRetry);
  document.addEventListener("htmx:timeout", queueRetry);
  window.addEventListener("online", function () {
    var forms = pending;
    pending = [];
    forms.forEach(function (form) { if (document.body.contains(form) && window.htmx) htmx.trigger(form, "submit"); });
  });

  // --- Dialogs: a link opens its <dialog> (without JS the link opens a page with the same form) ----------
  document.addEventListener("click", function (e) {
    var opener = e.target.closest && e.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.dialog);
      if (dialog && typeof dialog.showModal === "function") {
        e.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("input:not([type=hidden]), textarea, select");
        if (first) first.focus();
      }
      return;
    }
    var closer = e.target.closest && e.target.closest("dialog [data-close]");
    if (closer) {
      e.preventDefault();
      closer.closest("dialog").close();
    }
  });
  // A refused signature comes back into the dialog: keep the focus on the field to fix.
  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = e.detail && e.detail.elt;
    var dialog = elt && elt.closest && elt.closest("dialog[open]");
    if (dialog) {
      var bad = dialog.querySelector("[aria-invalid=true]") || dialog.querySelector("input[type=password]");
      if (bad) bad.focus();
    }
    // The scan input keeps the focus when its answer replaces it (the scanner types the next code).
    var scan = document.querySelector("[data-scan]");
    var target = e.detail && e.detail.target;
    if (scan && !dialog && (document.activeElement === document.body || (target && target.id === "scan"))) {
      scan.focus();
      scan.select();
    }
  });

  // --- The scanner types into the scan input, wherever the focus was left -------------------------------
  document.addEventListener("keydown", function (e) {
    var scan = document.querySelector("[data-scan]");
    if (!scan || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.matches("input, select, textarea, button, a, summary, [tabindex]")) return;
    if (document.querySelector("dialog[open]")) return;
    scan.focus();
  });

  // --- The idle lock: a shared tablet signs its operator out after STATION_IDLE_SECONDS without use -------
  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;
    var idle = parseInt(body.dataset.idleSeconds || "0", 10);
    if (!idle) return;
    var lockForm = document.getElementById("station-lock-form");
    var aliveUrl = body.dataset.aliveUrl;
    var csrf = "";
    try { csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (err) { csrf = ""; }
    var lastInput = Date.now();
    var lastServer = Date.now();
    var locking = false;
    ["keydown", "pointerdown", "input", "wheel", "touchstart", "scroll"].forEach(function (type) {
      document.addEventListener(type, function () { lastInput = Date.now(); }, { passive: true, capture: true });
    });
    document.addEventListener("htmx:afterRequest", function (e) {
      var elt = e.detail && e.detail.elt;
      if (!(elt && elt.id === "queue")) lastServer = Date.now(); // the queue's polling is not the operator
    });
    function lock() {
      if (locking || !lockForm) return;
      locking = true;
      var main = document.getElementById("main");
      if (main) main.hidden = true; // nothing of the last operator's page stays on show, even offline
      var next = lockForm.querySelector("[name=next]");
      if (next) next.value = location.pathname + location.search;
      var why = document.createElement("input"); // the lock page then says it locked for want of use
      why.type = "hidden"; why.name = "idle"; why.value = "1";
      lockForm.appendChild(why);
      lockForm.submit();
    }
    if (lockForm) {
      lockForm.addEventListener("submit", function () {
        var next = lockForm.querySelector("[name=next]");
        if (next) next.value = location.pathname + location.search;
      });
    }
    window.setInterval(function () {
      var now = Date.now();
      if (now - lastInput >= idle * 1000) { lock(); return; }
      // Busy on the page without a request (reading, scrolling): tell the server, so it does not lock first.
      if (aliveUrl && lastInput > lastServer && now - lastServer > idle * 500) {
        lastServer = now;
        if (window.fetch) {
          fetch(aliveUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf } })
            .catch(function () { /* offline: the banner says so */ });
        }
      }
    }, 5000);
  });

  // A step's form saved at once: the "Save all values" form (data-step-values) sends every value typed
  // in the step's rows as c<characteristic id>-value and -unit. Without JavaScript it stays hidden and
  // each row saves on its own.
  function showStepValues(root) {
    root.querySelectorAll("form[data-step-values]").forEach(function (f) { f.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { showStepValues(document); });
  document.addEventListener("htmx:load", function (e) { showStepValues(e.detail.elt); });
  document.addEventListener("htmx:configRequest", function (e) {
    var form = e.detail.elt;
    if (!(form.matches && form.matches("form[data-step-values]"))) return;
    var step = form.closest(".chars") || document;
    step.querySelectorAll("form.value-form[data-char]").forEach(function (row) {
      var data = new FormData(row), id = row.dataset.char;
      e.detail.formData.set("c" + id + "-value", data.get("value") || "");
      e.detail.formData.set("c" + id + "-unit", data.get("unit") || "");
    });
  });
})();
