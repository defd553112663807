module github.com/diffuir-web/diffuir

go 1.26.0

require (
	github.com/nlpodyssey/gopickle v0.2.0
	golang.org/x/image v0.48.0
	golang.org/x/term v0.48.0
)

require golang.org/x/sys v0.50.0

require (
	github.com/go-webgpu/goffi v0.6.3 // indirect
	github.com/go-webgpu/webgpu v0.5.5 // indirect
	github.com/gogpu/gpucontext v0.28.0 // indirect
	github.com/gogpu/gputypes v0.5.2
	github.com/gogpu/naga v0.18.0
	github.com/gogpu/wgpu v0.31.5
	github.com/norunners/vert v0.0.0-20221203075838-106a353d42dd
	github.com/syumai/workers v0.32.0
)
