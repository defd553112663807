#!/usr/bin/env bash
# Fetch the training and evaluation photos from Debian packages.
#
#   tools/data/fetch_photos.sh [--out DIR] [--write-sums] [--clean-debs]
#
# Writes (default DIR = data/photos, gitignored):
#   DIR/train/*.jpg          104 photos (scratch, tuxpaint-data, lomiri-wallpapers-16.04, mate-backgrounds,
#                            plasma-workspace-wallpapers)
#   DIR/eval/*               12 standard test photos (skimage, rust tiff, sklearn, matplotlib, scipy)
#   DIR/val/*                8 more skimage images (night sky, retina, microscopy, moon, coins, grey
#                            textures): never trained on and not in the eval table; they show what a
#                            training run does to content unlike the training photos, before the eval
#   DIR/licenses/PKG.copyright   each package's Debian copyright file (several are CC-BY-SA / GPL:
#                                attribution travels with the photos); plus sklearn's images README.
# Nothing is installed: `apt-get download` + `dpkg-deb --fsys-tarfile`. The .debs are cached in
# data/debs/ (about 138 MB; --clean-debs removes them afterwards).
#
# Every file is checked against tools/data/photos.sha256 (paths relative to DIR). The script is
# idempotent: when everything verifies it does nothing. --write-sums regenerates the list instead
# of checking it (do that only when the package set or versions change on purpose).
#
# Package versions are pinned to Debian 12 (bookworm) as of 2026-11; if a pinned version is gone
# from the archive the current one is fetched and the checksum step tells whether the photos differ.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/data/photos"
SUMS="$HERE/photos.sha256"
WRITE_SUMS=0
CLEAN_DEBS=0
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT="$2"; shift 2 ;;
	--write-sums) WRITE_SUMS=1; shift ;;
	--clean-debs) CLEAN_DEBS=1; shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "fetch_photos: unknown argument $1" >&2; exit 2 ;;
	esac
done
DEBS="$REPO/data/debs"
PY=/usr/bin/python3

PACKAGES=(
	"scratch=1.4.0.6~dfsg1-6.1"
	"tuxpaint-data=1:0.9.28-sdl2-1"
	"lomiri-wallpapers-16.04=20.04.0-2"
	"mate-backgrounds=1.26.0-1"
	"plasma-workspace-wallpapers=4:5.27.5-2"
	"python3-skimage=0.19.3-8"
	"librust-tiff-dev=0.7.3-1"
	"python3-sklearn=1.2.1+dfsg-1"
	"python-matplotlib-data=3.6.3-1"
	"python3-scipy=1.10.1-2"
)

verify() {
	[ -f "$SUMS" ] || return 1
	(cd "$OUT" && sha256sum --quiet --strict -c "$SUMS") >/dev/null 2>&1
}

if [ "$WRITE_SUMS" = 0 ] && verify; then
	echo "fetch_photos: $OUT is complete and verified ($(wc -l <"$SUMS") files)"
	exit 0
fi

mkdir -p "$DEBS" "$OUT/train" "$OUT/eval" "$OUT/val" "$OUT/licenses"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# deb PKG=VER -> path of the cached .deb (downloading it when missing)
deb() {
	local spec="$1" pkg="${1%%=*}" f
	f="$(ls "$DEBS"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)"
	if [ -z "$f" ]; then
		(
			cd "$DEBS"
			apt-get download -q "$spec" >/dev/null 2>&1 ||
				{ apt-get update -q >/dev/null 2>&1 || true; apt-get download -q "$spec" >/dev/null 2>&1; } ||
				{ echo "fetch_photos: $spec not available, fetching the current $pkg" >&2; apt-get download -q "$pkg" >/dev/null; }
		)
		f="$(ls "$DEBS"/"${pkg}"_*.deb | head -n1)"
	fi
	echo "$f"
}

# extract PKG=VER: unpacks the package's files into $WORK/PKG and copies its copyright file
extract() {
	local pkg="${1%%=*}" f
	f="$(deb "$1")"
	mkdir -p "$WORK/$pkg"
	dpkg-deb --fsys-tarfile "$f" | tar -x -C "$WORK/$pkg" --wildcards \
		'./usr/share/doc/*/copyright' './usr/share/scratch/Media/Backgrounds/*' './usr/share/tuxpaint/templates/*.jpg' \
		'./usr/share/backgrounds/*' './usr/share/wallpapers/*/contents/images/2560x1600.jpg' \
		'./usr/lib/python3/dist-packages/skimage/data/*' \
		'./usr/share/cargo/registry/tiff-*/tests/benches/kodim*' './usr/lib/python3/dist-packages/sklearn/datasets/images/*' \
		'./usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg' './usr/lib/python3/dist-packages/scipy/misc/face.dat' \
		2>/dev/null || true
	install -m 0644 "$WORK/$pkg/usr/share/doc/$pkg/copyright" "$OUT/licenses/$pkg.copyright"
	echo "$WORK/$pkg"
}

for spec in "${PACKAGES[@]}"; do
	pkg="${spec%%=*}"
	root="$(extract "$spec")"
	case "$pkg" in
	scratch)
		# 50 photographic backgrounds; the drawn ones and all GIFs/PNGs are skipped.
		skip=" chalkboard party-room room1 room2 room3 spotlight-stage woods-and-bench school2 graffiti basketball-court1-a basketball-court1-b "
		for p in "$root"/usr/share/scratch/Media/Backgrounds/*/*.jpg; do
			n="$(basename "$p" .jpg)"
			case "$skip" in *" $n "*) continue ;; esac
			install -m 0644 "$p" "$OUT/train/scratch-$n.jpg"
		done ;;
	tuxpaint-data)
		for p in "$root"/usr/share/tuxpaint/templates/*.jpg; do
			install -m 0644 "$p" "$OUT/train/tuxpaint-$(basename "$p")"
		done ;;
	lomiri-wallpapers-16.04)
		for p in "$root"/usr/share/backgrounds/*.jpg; do
			case "$(basename "$p")" in analogpattern_* | umang_*) continue ;; esac
			install -m 0644 "$p" "$OUT/train/lomiri-$(basename "$p")"
		done ;;
	mate-backgrounds)
		for p in "$root"/usr/share/backgrounds/mate/nature/*.jpg; do
			install -m 0644 "$p" "$OUT/train/mate-$(basename "$p")"
		done ;;
	plasma-workspace-wallpapers)
		# the photographs among Plasma's wallpapers (the others are renders), chosen for what the
		# first 94 lack: saturated close-ups (ColorfulCups, FallenLeaf), grey scenes (ColdRipple,
		# Grey) and dark ones (DarkestHour, summer_1am); every other size is a link to this file
		for n in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey OneStandsOut Path summer_1am; do
			install -m 0644 "$root/usr/share/wallpapers/$n/contents/images/2560x1600.jpg" "$OUT/train/plasma-$n.jpg"
		done ;;
	python3-skimage)
		for n in astronaut.png chelsea.png coffee.png rocket.jpg motorcycle_left.png camera.png; do
			install -m 0644 "$root/usr/lib/python3/dist-packages/skimage/data/$n" "$OUT/eval/$n"
		done
		for n in hubble_deep_field.jpg retina.jpg ihc.png coins.png moon.png brick.png grass.png gravel.png; do
			install -m 0644 "$root/usr/lib/python3/dist-packages/skimage/data/$n" "$OUT/val/$n"
		done ;;
	librust-tiff-dev)
		for p in "$root"/usr/share/cargo/registry/tiff-*/tests/benches/kodim0[27]-lzw.tif; do
			install -m 0644 "$p" "$OUT/eval/$(basename "$p")"
		done ;;
	python3-sklearn)
		d="$root/usr/lib/python3/dist-packages/sklearn/datasets/images"
		install -m 0644 "$d/china.jpg" "$OUT/eval/china.jpg"
		install -m 0644 "$d/flower.jpg" "$OUT/eval/flower.jpg"
		install -m 0644 "$d/README.txt" "$OUT/licenses/python3-sklearn.images-README.txt" ;;
	python-matplotlib-data)
		install -m 0644 "$root/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg" "$OUT/eval/grace_hopper.jpg" ;;
	python3-scipy)
		# face.dat: bz2-compressed raw RGB, 768x1024x3 uint8. Written as an uncompressed 24-bit BMP
		# (Python standard library only), so the bytes -- and the checksum -- never depend on a
		# PNG encoder's version. imageio decodes BMP.
		"$PY" - "$root/usr/lib/python3/dist-packages/scipy/misc/face.dat" "$OUT/eval/face.bmp" <<'EOF'
import bz2, struct, sys
raw = bz2.decompress(open(sys.argv[1], "rb").read())
h, w = 768, 1024
assert len(raw) == h * w * 3, len(raw)
row = (w * 3 + 3) // 4 * 4
size = 54 + row * h
out = bytearray(b"BM" + struct.pack("<IHHI", size, 0, 0, 54))
out += struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, row * h, 2835, 2835, 0, 0)
for y in range(h - 1, -1, -1):  # bottom-up rows, BGR
    line = bytearray(raw[y * w * 3:(y + 1) * w * 3])
    line[0::3], line[2::3] = line[2::3], line[0::3]
    out += line + b"\0" * (row - w * 3)
open(sys.argv[2], "wb").write(out)
EOF
		;;
	esac
	rm -rf "$root"
done

ntrain=$(ls "$OUT/train" | wc -l)
neval=$(ls "$OUT/eval" | wc -l)
nval=$(ls "$OUT/val" | wc -l)
if [ "$WRITE_SUMS" = 1 ]; then
	(cd "$OUT" && find train eval val licenses -type f | LC_ALL=C sort | xargs sha256sum) >"$SUMS"
	echo "fetch_photos: wrote $SUMS ($(wc -l <"$SUMS") files: $ntrain train, $neval eval, $nval val)"
else
	if ! (cd "$OUT" && sha256sum --quiet --strict -c "$SUMS"); then
		echo "fetch_photos: checksum mismatch against $SUMS (see above)" >&2
		exit 1
	fi
	# files beyond the list are not expected either
	extra=$(cd "$OUT" && comm -13 <(awk '{print $2}' "$SUMS" | LC_ALL=C sort) <(find train eval val licenses -type f | LC_ALL=C sort))
	if [ -n "$extra" ]; then
		echo "fetch_photos: files not in $SUMS:" $extra >&2
	fi
	echo "fetch_photos: $ntrain train, $neval eval and $nval val photos in $OUT, verified"
fi
[ "$CLEAN_DEBS" = 1 ] && rm -rf "$DEBS"
exit 0
