#!/bin/sh
# Regenerates the animations under OUT (default Outputs/animations): the conv_arithmetic
# set (Dumoulin and Visin: no padding, arbitrary, half and full padding, strides, odd
# strides, dilation, and the transposed version of each) as GIF, animated SVG and PDF
# pages, pooling, receptive-field growth and conv1 learning. Used by `make animations`.
set -eu
CONVVIZ=${1:-.build/release/convviz}
OUT=${2:-Outputs/animations}
mkdir -p "$OUT"

# name: convolution settings
while read -r name settings; do
    for ext in gif svg pdf; do
        # shellcheck disable=SC2086
        "$CONVVIZ" animate convolution $settings -o "$OUT/$name.$ext"
    done
done <<'CASES'
no_padding_no_strides --input 4 --kernel 3
arbitrary_padding_no_strides --input 5 --kernel 4 --padding 2
same_padding_no_strides --input 5 --kernel 3 --padding 1
full_padding_no_strides --input 5 --kernel 3 --padding 2
no_padding_strides --input 5 --kernel 3 --stride 2
padding_strides --input 5 --kernel 3 --stride 2 --padding 1
padding_strides_odd --input 6 --kernel 3 --stride 2 --padding 1
dilation --input 7 --kernel 3 --dilation 2
no_padding_no_strides_transposed --input 2 --kernel 3 --transposed
arbitrary_padding_no_strides_transposed --input 6 --kernel 4 --padding 2 --transposed
same_padding_no_strides_transposed --input 5 --kernel 3 --padding 1 --transposed
full_padding_no_strides_transposed --input 7 --kernel 3 --padding 2 --transposed
no_padding_strides_transposed --input 2 --kernel 3 --stride 2 --transposed
padding_strides_transposed --input 3 --kernel 3 --stride 2 --padding 1 --transposed
padding_strides_odd_transposed --input 3 --kernel 3 --stride 2 --padding 1 --output-padding 1 --transposed
padding_strides_values --input 5 --kernel 3 --stride 2 --padding 1 --values
CASES

for ext in gif svg pdf; do
    "$CONVVIZ" animate pooling -o "$OUT/max_pooling.$ext"
    "$CONVVIZ" animate receptive-field -o "$OUT/receptive_field.$ext"
    "$CONVVIZ" animate receptive-field --lang zh -o "$OUT/receptive_field_zh.$ext"
done

# conv1 learning: a learn-filters run recording every 100 steps (2,000 steps, about 20 s).
"$CONVVIZ" learn-filters --out "$OUT/learn-filters" --record-every 100 > /dev/null
for ext in gif svg pdf; do
    "$CONVVIZ" animate learning "$OUT/learn-filters" -o "$OUT/learning.$ext"
done
