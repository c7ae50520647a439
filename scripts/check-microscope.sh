#!/usr/bin/env bash
# Checks a `convviz microscope` site in headless Chromium: opens index.html, follows the
# first layer's link, clicks a card, presses → and Esc, and checks that every image on
# the three kinds of page loads (lazy images are made eager first), that the click and
# the keys reach the expected pages, and that no page logs a console error.
#
#   scripts/check-microscope.sh SITE [CARD]        (CARD: which card to click, default 1)
#   SCREENSHOTS=DIR scripts/check-microscope.sh SITE   also saves index.png, layer.png, unit.png
# Needs Debian's `chromium` (installed when missing).
set -euo pipefail
SITE=$(cd "${1:?usage: check-microscope.sh SITE [CARD]}" && pwd)
CARD=${2:-1}
[ -f "$SITE/index.html" ] || { echo "no index.html in $SITE" >&2; exit 1; }
command -v chromium >/dev/null || "$(dirname "$0")/install-system-packages.sh" chromium
HARNESS="$SITE/.check-microscope.html"
LOG=$(mktemp)
trap 'rm -f "$HARNESS" "$LOG"' EXIT
cat > "$HARNESS" <<HTML
<!DOCTYPE html><html><head><title>running</title></head><body>
<iframe id="f" src="index.html" width="1200" height="900"></iframe>
<script>
const f = document.getElementById("f"), out = { pages: [], errors: [] };
let pending = null;
f.addEventListener("load", () => {
  const w = f.contentWindow;
  w.addEventListener("error", e => out.errors.push(String(e.message)));
  const original = w.console.error;
  w.console.error = (...a) => { out.errors.push(a.join(" ")); original.apply(w.console, a); };
  if (pending) { const p = pending; pending = null; p(); }
});
const next = () => new Promise(r => { pending = r; });
const here = () => decodeURIComponent(f.contentWindow.location.href);
async function page(kind) {
  const imgs = [...f.contentDocument.images];
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete && i.naturalWidth ? 0 : new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 5000); })));
  out.pages.push({ kind, url: here(), images: imgs.map(i => [i.getAttribute("src"), i.naturalWidth, i.naturalHeight]) });
}
(async () => {
  try {
    await next(); await page("index");
    f.contentDocument.querySelector(".strip h2 a").click(); await next(); await page("layer");
    const layer = here(), cards = [...f.contentDocument.querySelectorAll(".card")];
    const card = cards[Math.min($CARD, cards.length - 1)], after = cards[Math.min($CARD, cards.length - 1) + 1];
    out.click = { expected: card.href, reached: "" };
    card.click(); await next(); out.click.reached = f.contentWindow.location.href; await page("unit");
    if (after) {
      out.arrow = { expected: after.href, reached: "" };
      f.contentDocument.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
      await next(); out.arrow.reached = f.contentWindow.location.href;
    }
    out.escape = { expected: layer.split("#")[0], reached: "" };
    f.contentDocument.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await next(); out.escape.reached = here().split("#")[0];
  } catch (e) { out.errors.push("harness: " + e); }
  document.title = "CHECK" + JSON.stringify(out);
})();
</script></body></html>
HTML
FLAGS=(--headless --no-sandbox --disable-gpu --allow-file-access-from-files --virtual-time-budget=30000)
DOM=$(chromium "${FLAGS[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$HARNESS" 2>"$LOG")
if [ -n "${SCREENSHOTS:-}" ]; then
  mkdir -p "$SCREENSHOTS"
  LAYER=$(grep -o 'href="layer-[^"]*\.html"' "$SITE/index.html" | head -1 | sed 's/href="//; s/"$//')
  UNIT=$(grep -o 'href="units/[^"]*index\.html"' "$SITE/$LAYER" | sed -n "$((CARD + 1))p" | sed 's/href="//; s/"$//')
  chromium "${FLAGS[@]}" --hide-scrollbars --window-size=1100,760 --screenshot="$SCREENSHOTS/index.png" "file://$SITE/index.html" >/dev/null 2>&1
  chromium "${FLAGS[@]}" --hide-scrollbars --window-size=1100,760 --screenshot="$SCREENSHOTS/layer.png" "file://$SITE/$LAYER" >/dev/null 2>&1
  chromium "${FLAGS[@]}" --hide-scrollbars --window-size=1100,760 --screenshot="$SCREENSHOTS/unit.png" "file://$SITE/$UNIT" >/dev/null 2>&1
fi
python3 - "$DOM" "$LOG" <<'PY'
import json, re, sys
m = re.search(r"<title>CHECK(.*?)</title>", sys.argv[1], re.S)
if not m:
    sys.exit("the harness did not finish (pages did not load?)")
r = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
failed = 0
for p in r["pages"]:
    bad = [i for i in p["images"] if not i[1] or not i[2]]
    failed += len(bad) + (0 if p["images"] else 1)
    print(f"{'ok ' if not bad and p['images'] else 'BAD'} {p['kind']}: {len(p['images']) - len(bad)}/{len(p['images'])} images loaded  {p['url']}")
    for src, w, h in bad:
        print(f"    BAD image {src} {w}x{h}")
for step in ("click", "arrow", "escape"):
    if step in r:
        ok = r[step]["expected"] == r[step]["reached"]
        failed += not ok
        print(f"{'ok ' if ok else 'BAD'} {step}: reached {r[step]['reached']}" + ("" if ok else f" (expected {r[step]['expected']})"))
console = [l.strip() for l in open(sys.argv[2], errors="replace") if "CONSOLE" in l]
for e in r["errors"] + console:
    print(f"BAD console: {e}")
failed += len(r["errors"]) + len(console)
print("passed" if not failed else f"{failed} problem(s)")
sys.exit(1 if failed else 0)
PY
