#!/usr/bin/env bash
# Opens a report's index.html in headless Chromium, checks that every image loaded with
# a non-zero natural size, and saves a screenshot beside it (report-screenshot.png).
#
#   scripts/check-report.sh Outputs/demo
# Needs Debian's `chromium` (installed when missing).
set -euo pipefail
DIR=$(cd "${1:-Outputs/demo}" && pwd)
[ -f "$DIR/index.html" ] || { echo "no index.html in $DIR" >&2; exit 1; }
command -v chromium >/dev/null || "$(dirname "$0")/install-system-packages.sh" chromium
CHECK="$DIR/.check-report.html"
trap 'rm -f "$CHECK"' EXIT
# The page plus a probe that writes what each image reports into the title, once all loaded.
sed 's#</body>#<script>window.addEventListener("load", () => { const r = [...document.images].map(i => [i.getAttribute("src"), i.complete, i.naturalWidth, i.naturalHeight]); document.title = "CHECK" + JSON.stringify(r); });</script></body>#' \
  "$DIR/index.html" > "$CHECK"
FLAGS=(--headless --no-sandbox --disable-gpu --allow-file-access-from-files --virtual-time-budget=10000)
DOM=$(chromium "${FLAGS[@]}" --dump-dom "file://$CHECK" 2>/dev/null)
chromium "${FLAGS[@]}" --window-size=1280,2400 --screenshot="$DIR/report-screenshot.png" "file://$DIR/index.html" >/dev/null 2>&1
python3 - "$DOM" <<'PY'
import json, re, sys
m = re.search(r"<title>CHECK(.*?)</title>", sys.argv[1], re.S)
if not m:
    sys.exit("the page did not finish loading")
images = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
bad = [i for i in images if not i[1] or i[2] == 0 or i[3] == 0]
for src, complete, w, h in images:
    print(f"{'ok ' if w and h else 'BAD'} {src} {w}x{h}")
print(f"{len(images) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad or not images else 0)
PY
echo "screenshot: $DIR/report-screenshot.png"
