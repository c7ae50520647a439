# ConvViz: the two commands a new user needs are `make demo` and `make test`.
SYSTEM_PACKAGES = libcairo2-dev libpango1.0-dev libpng-dev libopenblas-dev zlib1g-dev pkg-config \
                  fonts-dejavu-core fonts-noto-cjk dataset-fashion-mnist
RELEASE = swift build -c release --product convviz
CONVVIZ = .build/release/convviz

.PHONY: setup test demo build bench gallery

# Installs whatever system packages are missing (Debian/Ubuntu, as root or with sudo).
setup:
	@scripts/install-system-packages.sh $(SYSTEM_PACKAGES)

build: setup
	$(RELEASE)

test: setup
	swift test

demo: build
	$(CONVVIZ) demo --out Outputs/demo

bench: build
	$(CONVVIZ) bench conv
