/// The site's one style sheet and one script, written beside `index.html`.
extension MicroscopeSite {
    static let css = """
    body { font: 15px/1.45 "DejaVu Sans", "Noto Sans CJK SC", sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
    a { color: #1a5fb4; text-decoration: none; }
    h1 small, h2 small { color: #777; font-weight: normal; }
    img { image-rendering: pixelated; background: #eee; }
    .crumbs { color: #777; margin: 0; }
    #search { font-size: 1em; padding: .3em .5em; width: 16em; }
    table.shapes { border-collapse: collapse; margin: 1em 0; }
    table.shapes td, table.shapes th { border-bottom: 1px solid #ddd; padding: .2em .8em; text-align: left; }
    .thumbs { display: flex; flex-wrap: wrap; gap: 3px; }
    .thumbs img { width: 56px; height: 56px; display: block; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 12px; }
    .card { border: 1px solid #ddd; border-radius: 6px; padding: 8px; color: inherit; display: block; }
    .card:hover, .card:focus { border-color: #1a5fb4; outline: none; box-shadow: 0 0 0 2px #1a5fb455; }
    .card h3 { margin: 0 0 6px; font-size: 1em; }
    .card.hidden { display: none; }
    .pictures { display: flex; gap: 6px; align-items: flex-start; }
    .pictures .vis { width: 84px; height: 84px; }
    .pictures .patches { width: 84px; height: auto; }
    .pictures .kernel { width: 48px; height: auto; }
    .stats { margin: 6px 0 2px; color: #555; font-size: .9em; }
    .classes { font-size: .75em; }
    .classes .what { margin: 4px 0 2px; color: #777; }
    .bar { display: flex; align-items: center; gap: 4px; height: 1.25em; }
    .bar .name { width: 6.5em; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; color: #555; }
    .bar .fill { background: #4a90d9; height: .8em; max-width: 9em; display: inline-block; }
    .bar .count { color: #777; }
    .unit { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 20px; }
    .unit .big { width: 280px; height: auto; }
    .patch-list { font-size: .8em; color: #444; padding-left: 1.6em; }
    .maps figure { display: inline-block; margin: 0 8px 8px 0; }
    .maps img { width: 112px; height: 112px; }
    .keys { color: #999; font-size: .85em; margin-top: 2em; }
    """

    /// Arrow keys follow the page's `data-prev`/`data-next`, Esc its `data-up`; `/`
    /// focuses the search. On a layer page the search keeps the cards whose channel
    /// starts with what is typed, and Enter opens an exact match; on the index it takes
    /// `layer:channel` (or a channel of the first layer) and Enter opens that unit.
    static let script = """
    (function () {
      var body = document.body, search = document.getElementById("search");
      document.addEventListener("keydown", function (e) {
        if (e.target === search) { if (e.key === "Escape") search.blur(); return; }
        if (e.altKey || e.ctrlKey || e.metaKey) return;
        var to = { ArrowLeft: body.dataset.prev, ArrowRight: body.dataset.next, Escape: body.dataset.up }[e.key];
        if (to) { e.preventDefault(); location.href = to; }
        else if (e.key === "/" && search) { e.preventDefault(); search.focus(); }
      });
      if (!search) return;
      var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
      if (cards.length) {
        search.addEventListener("input", function () {
          var q = search.value.trim();
          cards.forEach(function (c) { c.classList.toggle("hidden", q !== "" && c.dataset.channel.indexOf(q) !== 0); });
        });
        search.addEventListener("keydown", function (e) {
          if (e.key !== "Enter") return;
          var hit = cards.filter(function (c) { return c.dataset.channel === search.value.trim(); })[0];
          if (hit) location.href = hit.getAttribute("href");
        });
        return;
      }
      var slugs = (search.dataset.layers || "").split(" "), names = (search.dataset.names || "").split(" ");
      search.addEventListener("keydown", function (e) {
        if (e.key !== "Enter") return;
        var parts = search.value.trim().split(/[:\\s]+/), layer = 0, channel = parts[parts.length - 1];
        if (parts.length > 1) layer = Math.max(names.indexOf(parts[0]), slugs.indexOf(parts[0]));
        if (layer >= 0 && /^[0-9]+$/.test(channel)) {
          var a = document.querySelector('a[href="units/' + slugs[layer] + '/' + channel + '/index.html"]');
          if (a) location.href = a.getAttribute("href");
        }
      });
    })();
    """
}
