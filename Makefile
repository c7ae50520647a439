# ConvViz: the two commands a new user needs are `make demo` and `make test`.
SYSTEM_PACKAGES = libcairo2-dev libpango1.0-dev libpng-dev libopenblas-dev zlib1g-dev pkg-config libfftw3-dev libgif-dev \
                  fonts-dejavu-core fonts-noto-cjk dataset-fashion-mnist
RELEASE = swift build -c release --product convviz
CONVVIZ = .build/release/convviz

.PHONY: setup test test-long test-kernels demo build bench gallery lecture animations

# Installs whatever system packages are missing (Debian/Ubuntu, as root or with sudo).
setup:
	@scripts/install-system-packages.sh $(SYSTEM_PACKAGES)

build: setup
	$(RELEASE)

test: setup
	swift test --disable-swift-testing

# The suite plus the long checks it skips (reference loops at full size, full recipes).
test-long: setup
	CONVVIZ_LONG_TESTS=1 swift test --disable-swift-testing

# The suite under OpenBLAS's own kernel choice and under the AVX2 kernel families other
# x86-64 machines get (Haswell, Zen); `make test-kernels KERNELS="SkylakeX Sandybridge"`
# for others. The tolerances must hold on each. `noavx512` runs it as a CPU without
# AVX-512 would (OpenBLAS Haswell, ConvViz's AVX-512 kernels off: CONVVIZ_PANEL_GEMM=0).
KERNELS = default Haswell Zen noavx512
test-kernels: setup
	swift build --build-tests
	@for k in $(KERNELS); do \
	  echo "== OPENBLAS_CORETYPE=$$k"; \
	  if [ $$k = default ]; then env -u OPENBLAS_CORETYPE swift test --skip-build --disable-swift-testing || exit 1; \
	  elif [ $$k = noavx512 ]; then OPENBLAS_CORETYPE=Haswell CONVVIZ_PANEL_GEMM=0 swift test --skip-build --disable-swift-testing || exit 1; \
	  else OPENBLAS_CORETYPE=$$k swift test --skip-build --disable-swift-testing || exit 1; fi; \
	done

demo: build
	$(CONVVIZ) demo --out Outputs/demo

# The lecture atlas, in English and in Chinese.
lecture: build
	$(CONVVIZ) lecture --out Outputs/lecture
	$(CONVVIZ) lecture --out Outputs/lecture-zh --lang zh

bench: build
	$(CONVVIZ) bench conv

# Regenerates the images the README shows (committed under Outputs/gallery).
gallery: build
	$(CONVVIZ) demo --out Outputs/demo
	mkdir -p Outputs/gallery
	cp Outputs/demo/filters.png Outputs/demo/filmstrip.png Outputs/demo/filter-comparison.png Outputs/demo/activations.png Outputs/demo/receptive-field.png \
	   Outputs/demo/receptive-field-growth.png Outputs/demo/normalization.png Outputs/demo/volumes.png Outputs/demo/pooling.png \
	   Outputs/demo/training-curves.png Outputs/gallery/
	$(CONVVIZ) compare-norms --data fashion-mnist --out Outputs/compare-norms
	cp Outputs/compare-norms/curves.png Outputs/gallery/compare-norms.png
	$(CONVVIZ) filters Outputs/demo/learn-filters:conv1 --labels --columns 12 -o Outputs/gallery/mosaic.png
	$(CONVVIZ) activations --checkpoint Outputs/demo --image Sources/ConvVizCore/Resources/samples/astronaut.png --layer relu1 --columns 8 -o Outputs/gallery/activations-astronaut.png
	$(CONVVIZ) train --data fashion-mnist --arch small --epochs 1 --overwrite --out Outputs/fmnist
	$(CONVVIZ) top-patches --model Outputs/fmnist --layer conv2 --channels 0:8 --with-filters -o Outputs/gallery/top-patches-conv2.png
	scripts/check-report.sh Outputs/demo
	cp Outputs/demo/report-screenshot.png Outputs/gallery/
	$(CONVVIZ) lecture --out Outputs/lecture
	$(CONVVIZ) lecture --out Outputs/lecture-zh --lang zh
	scripts/check-report.sh Outputs/lecture
	scripts/check-report.sh Outputs/lecture-zh
	cp Outputs/lecture/report-screenshot.png Outputs/gallery/lecture-screenshot.png
	cp Outputs/lecture-zh/report-screenshot.png Outputs/gallery/lecture-zh-screenshot.png
	cp Outputs/lecture/conv-layer.png Outputs/gallery/lecture-conv-layer.png
	cp Outputs/lecture-zh/stride.png Outputs/gallery/lecture-stride-zh.png
	cp Outputs/lecture/stacking.png Outputs/gallery/lecture-stacking.png

# The README's attribution figures: trains the photo-identity network on the sample
# photos (Outputs/photo-id), then every method, --metrics and --sanity into Outputs/gallery.
.PHONY: gallery-attribution
gallery-attribution: build
	scripts/attribution-gallery.sh $(CONVVIZ)

# The conv_arithmetic set and the other animations (GIF, SVG, PDF) into Outputs/animations;
# a few are copied to Outputs/gallery for the README.
animations: build
	scripts/animations.sh $(CONVVIZ) Outputs/animations
	mkdir -p Outputs/gallery
	cp Outputs/animations/padding_strides.gif Outputs/animations/padding_strides_transposed.gif Outputs/animations/dilation.gif \
	   Outputs/animations/padding_strides_values.gif Outputs/animations/receptive_field.gif Outputs/animations/learning.gif Outputs/gallery/
