// smartconform HTML report: client-side filters, anchors, copy buttons and
// print expansion. Vanilla JS, no libraries; the page reads fine without it.
(function () {
  "use strict";

  var cases = Array.prototype.slice.call(document.querySelectorAll("article.case"));
  var toolbar = document.getElementById("sc-toolbar");
  var chips = Array.prototype.slice.call(document.querySelectorAll("[data-filter-status]"));
  var levelSel = document.getElementById("sc-level");
  var sevSel = document.getElementById("sc-severity");
  var sortSel = document.getElementById("sc-sort");
  var areaSel = document.getElementById("sc-area");
  var search = document.getElementById("sc-search");
  var shown = document.getElementById("sc-shown");
  var empty = document.getElementById("sc-empty");

  function on(el, type, fn) {
    if (el) { el.addEventListener(type, fn); }
  }

  function pressed(chip) {
    return chip.getAttribute("aria-pressed") !== "false";
  }

  function isFiltered() {
    return chips.some(function (c) { return !pressed(c); }) ||
      (levelSel && levelSel.value !== "") ||
      (sevSel && sevSel.value !== "") ||
      (areaSel && areaSel.value !== "") ||
      (search && search.value.trim() !== "");
  }

  function apply() {
    var statuses = {};
    chips.forEach(function (c) { statuses[c.getAttribute("data-filter-status")] = pressed(c); });
    var level = levelSel ? levelSel.value : "";
    var sev = sevSel ? sevSel.value : "";
    var area = areaSel ? areaSel.value : "";
    var terms = search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var n = 0;
    cases.forEach(function (el) {
      var st = el.getAttribute("data-status") || "";
      var hay = el.getAttribute("data-search") || "";
      var visible = statuses[st] !== false &&
        (level === "" || el.getAttribute("data-level") === level) &&
        (sev === "" || el.getAttribute("data-severity") === sev) &&
        (area === "" || el.getAttribute("data-area") === area) &&
        terms.every(function (t) { return hay.indexOf(t) !== -1; });
      el.hidden = !visible;
      if (visible) { n++; }
    });
    if (shown) {
      shown.textContent = "Showing " + n + " of " + cases.length + " case" + (cases.length === 1 ? "" : "s") +
        (isFiltered() ? " (filtered)" : "") + ".";
    }
    if (toolbar) { toolbar.classList.toggle("filtered", isFiltered()); }
    if (empty) { empty.hidden = n !== 0 || cases.length === 0; }
  }

  function reset() {
    chips.forEach(function (c) { c.setAttribute("aria-pressed", "true"); });
    if (levelSel) { levelSel.value = ""; }
    if (sevSel) { sevSel.value = ""; }
    if (areaSel) { areaSel.value = ""; }
    if (search) { search.value = ""; }
    apply();
  }

  // Open the <details> around the element the URL fragment names, showing
  // its case even when the filters hide it.
  function openHash() {
    var id;
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      id = location.hash.slice(1);
    }
    if (!id) { return; }
    var target = document.getElementById(id);
    if (!target) { return; }
    var art = target.closest ? target.closest("article.case") : null;
    if (art && art.hidden) { reset(); }
    var d = target.tagName === "ARTICLE" ? target.querySelector("details") : null;
    if (d) { d.open = true; }
    for (var p = target.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; }
    }
    if (target.scrollIntoView) { target.scrollIntoView({ block: "start" }); }
  }

  // Reorder the cases: as written (failures first, most severe first),
  // by severity alone, or by case ID.
  var written = cases.slice();
  function sortCases() {
    var how = sortSel ? sortSel.value : "attention";
    var order = written.slice();
    var rank = function (el) { return parseInt(el.getAttribute("data-sev-rank") || "4", 10); };
    if (how === "severity") {
      order.sort(function (a, b) { return rank(a) - rank(b) || written.indexOf(a) - written.indexOf(b); });
    } else if (how === "id") {
      order.sort(function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; });
    }
    var parent = written.length ? written[0].parentNode : null;
    var anchor = written.length ? written[written.length - 1].nextSibling : null;
    if (!parent) { return; }
    order.forEach(function (el) { parent.insertBefore(el, anchor); });
  }

  function setAll(open) {
    document.querySelectorAll("details").forEach(function (d) {
      var art = d.closest("article.case");
      if (!art || !art.hidden) { d.open = open; }
    });
  }

  // Copy-as-curl. navigator.clipboard needs a secure context; file:// pages
  // usually are one, but fall back to a selection and execCommand, and
  // finally to leaving the text selected for Ctrl+C.
  function selectText(pre) {
    var sel = window.getSelection ? window.getSelection() : null;
    if (!sel || !document.createRange) { return false; }
    var range = document.createRange();
    range.selectNodeContents(pre);
    sel.removeAllRanges();
    sel.addRange(range);
    return true;
  }

  function fallbackCopy(pre, status) {
    var ok = false;
    if (selectText(pre)) {
      try {
        ok = document.execCommand && document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
    }
    status.textContent = ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
  }

  document.querySelectorAll(".curl").forEach(function (box) {
    var btn = box.querySelector("button.copy");
    var pre = box.querySelector("pre");
    var status = box.querySelector(".copy-status");
    if (!btn || !pre || !status) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      var text = pre.textContent;
      if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext !== false) {
        navigator.clipboard.writeText(text).then(function () {
          status.textContent = "Copied.";
        }, function () {
          fallbackCopy(pre, status);
        });
      } else {
        fallbackCopy(pre, status);
      }
      window.setTimeout(function () { status.textContent = ""; }, 4000);
    });
  });

  // Printing expands everything, then restores what the reader had open.
  var closedBeforePrint = [];
  on(window, "beforeprint", function () {
    closedBeforePrint = [];
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      closedBeforePrint.push(d);
      d.open = true;
    });
  });
  on(window, "afterprint", function () {
    closedBeforePrint.forEach(function (d) { d.open = false; });
    closedBeforePrint = [];
  });

  chips.forEach(function (c) {
    c.addEventListener("click", function () {
      c.setAttribute("aria-pressed", pressed(c) ? "false" : "true");
      apply();
    });
  });
  on(levelSel, "change", apply);
  on(sevSel, "change", apply);
  on(sortSel, "change", sortCases);
  on(areaSel, "change", apply);
  on(search, "input", apply);
  on(document.getElementById("sc-reset"), "click", reset);
  on(document.getElementById("sc-expand"), "click", function () { setAll(true); });
  on(document.getElementById("sc-collapse"), "click", function () { setAll(false); });
  on(window, "hashchange", openHash);
  // A link to the fragment already in the URL fires no hashchange.
  on(document, "click", function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest("a[href^='#']") : null;
    if (a && a.getAttribute("href") === location.hash) { window.setTimeout(openHash, 0); }
  });

  if (toolbar) { toolbar.hidden = false; }
  apply();
  openHash();
}());
