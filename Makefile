# ConvViz: the two commands a new user needs are `make demo` and `make test`.
SYSTEM_PACKAGES = libcairo2-dev libpango1.0-dev libpng-dev libopenblas-dev zlib1g-dev pkg-config libfftw3-dev libgif-dev \
                  fonts-dejavu-core fonts-noto-cjk dataset-fashion-mnist
RELEASE = swift build -c release --product convviz
CONVVIZ = .build/release/convviz

.PHONY: setup test demo build bench gallery lecture

# Installs whatever system packages are missing (Debian/Ubuntu, as root or with sudo).
setup:
	@scripts/install-system-packages.sh $(SYSTEM_PACKAGES)

build: setup
	$(RELEASE)

test: setup
	swift test --disable-swift-testing

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
