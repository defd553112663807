# Sourced by node_exec.sh and chromium_exec.sh (with here set to this
# folder): root is the checkout, work a temporary folder, removed on exit,
# holding the page's loader (site/wasmsimd.js) and the kernels this
# checkout generates, as the page has them.
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/site/wasmsimd.js" "$work/"
(cd "$root" && env -u GOOS -u GOARCH go run ./tools/wasmsimd -js "$work/wasmsimd-kernels.js")
