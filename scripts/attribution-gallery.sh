#!/bin/sh
# Regenerates the README's "Why did it decide that?" figures: trains the photo-identity
# network (Examples/photo-id.json: which of the seven colour sample photographs a 32x32
# patch comes from) into Outputs/photo-id, then draws every attribution method on four
# photographs, and the --metrics table and --sanity figure on one. Used by
# `make gallery-attribution`; writes Outputs/gallery/attribution-grid.png and
# attribution-sanity.png, and prints the --metrics and --sanity numbers (also kept in
# Outputs/photo-id/trust.txt and trust.json).
set -eu
CONVVIZ=${1:-.build/release/convviz}
RUN=Outputs/photo-id
S=Sources/ConvVizCore/Resources/samples
mkdir -p Outputs/gallery

"$CONVVIZ" train --data samples --arch Examples/photo-id.json --epochs 2 --seed 0 --overwrite --out "$RUN"
"$CONVVIZ" attribute --model "$RUN" --labels Examples/photo-id-labels.txt \
    --image $S/chelsea.png --image $S/coffee.png --image $S/rocket.png --image $S/astronaut.png \
    --method all -o Outputs/gallery/attribution-grid.png
"$CONVVIZ" attribute --model "$RUN" --labels Examples/photo-id-labels.txt --image $S/coffee.png \
    --method gradcam,scorecam,saliency,integrated-gradients,smoothgrad,guided-backprop,occlusion \
    --metrics --sanity --json "$RUN/trust.json" -o "$RUN/coffee.png" > "$RUN/trust.txt"
cat "$RUN/trust.txt"
cp "$RUN/coffee.sanity.png" Outputs/gallery/attribution-sanity.png
