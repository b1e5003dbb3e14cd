// Small enhancements of the query form: example picker, Ctrl+Enter, Tab inserts spaces.
(function () {
  "use strict";
  var area = document.getElementById("query");
  var picker = document.getElementById("examples");
  var store = document.getElementById("example-texts");
  if (!area) { return; }
  var prologue = area.value.split("\n").filter(function (l) { return /^PREFIX /i.test(l); }).join("\n");
  if (picker && store) {
    picker.addEventListener("change", function () {
      var pre = store.content.querySelector('pre[data-i="' + picker.value + '"]');
      if (pre) {
        var text = pre.textContent;
        area.value = /^\s*PREFIX\s/im.test(text) ? text : prologue + "\n\n" + text;
        area.focus();
      }
    });
  }
  area.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); area.form.submit(); }
    if (e.key === "Tab") {
      e.preventDefault();
      var s = area.selectionStart;
      area.value = area.value.slice(0, s) + "  " + area.value.slice(area.selectionEnd);
      area.selectionStart = area.selectionEnd = s + 2;
    }
  });
}());
