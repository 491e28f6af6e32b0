// Search as you type: the page works without this; it only fetches the same
// server-rendered page for what is typed and swaps its results in.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var results = document.getElementById("results");
  if (!input || !results || !window.fetch || !window.DOMParser) { return; }
  var timer = null, latest = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  function refresh() {
    var form = input.form, params = new URLSearchParams(new FormData(form));
    var url = "/?" + params.toString(), ticket = ++latest;
    fetch(url, { headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== latest) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("results");
        if (fresh) {
          results.replaceWith(fresh);
          results = fresh;
          history.replaceState(null, "", url);
        }
      })
      .catch(function () { /* the form still submits */ });
  }
})();
