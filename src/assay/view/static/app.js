// assay view: live progress over server-sent events and the review queue's keyboard
// shortcuts. Plain script, no dependencies; every page works without it.
"use strict";

function liveProgress(el) {
  var url = el.getAttribute("data-events");
  if (!url || !window.EventSource) return;
  var source = new EventSource(url);
  function set(sel, text) {
    var node = el.querySelector(sel);
    if (node) node.textContent = text;
  }
  source.addEventListener("progress", function (ev) {
    var p = JSON.parse(ev.data);
    var bar = el.querySelector("progress");
    if (bar) { bar.max = p.total; bar.value = p.answered; }
    set(".answered", String(p.answered));
    set(".judged", String(p.judged));
    set(".errors", String(p.errors));
    set(".rate", p.rate ? p.rate.toFixed(2) : "—");
    set(".eta", p.eta_s !== null && p.eta_s !== undefined ? Math.round(p.eta_s) + " s" : "—");
    (p.requirements || []).forEach(function (q) {
      var row = document.querySelector('tr.req[data-req="' + CSS.escape(q.id) + '"]');
      if (!row) return;
      var est = row.querySelector(".estimate");
      if (est) est.textContent = q.rate + " (n=" + q.n + ")";
      var v = row.querySelector(".verdict .pill");
      if (v) { v.textContent = q.verdict.replace("_", " "); v.className = "pill v-" + q.verdict; }
      row.setAttribute("data-verdict", q.verdict);
    });
  });
  source.addEventListener("done", function () {
    source.close();
    if (el.getAttribute("data-reload")) window.location.reload();
  });
}

function reviewKeys(form) {
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target && ev.target.tagName) || "";
    if (tag === "INPUT" && ev.target.type !== "radio" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Enter") { ev.preventDefault(); form.requestSubmit(); return; }
    var radio = form.querySelector('input[type="radio"][data-key="' + ev.key + '"]');
    if (radio) { ev.preventDefault(); radio.checked = true; radio.focus(); }
  });
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-events]").forEach(liveProgress);
  var form = document.getElementById("review-form");
  if (form) reviewKeys(form);
});
