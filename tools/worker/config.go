package main

import (
	"strings"

	"github.com/diffuir-web/diffuir/site/server"
)

// config is the Worker's configuration, read from its variables
// (wrangler.toml [vars] and bindings).
type config struct {
	frameAncestors string // FRAME_ANCESTORS: CSP frame-ancestors for HTML ("" = 'none')
	isolation      bool   // ISOLATION: send COOP/COEP
	packPrefix     string // PACKS_PREFIX: the URL folder of the model packs, "models/"
	packBucket     string // PACKS_BUCKET: R2 binding serving packs; "" serves them as assets
	packCache      bool   // PACKS_CACHE: put the Cache API in front of R2
}

func loadConfig(getenv func(string) string) config {
	c := config{
		frameAncestors: strings.TrimSpace(getenv("FRAME_ANCESTORS")),
		isolation:      truthy(getenv("ISOLATION")),
		packPrefix:     strings.Trim(strings.TrimSpace(getenv("PACKS_PREFIX")), "/"),
		packBucket:     strings.TrimSpace(getenv("PACKS_BUCKET")),
		packCache:      truthy(getenv("PACKS_CACHE")),
	}
	if c.packPrefix == "" {
		c.packPrefix = "models"
	}
	c.packPrefix += "/"
	return c
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// options are the handler options for this configuration.
func (c config) options() server.Options {
	return server.Options{
		FrameAncestors: c.frameAncestors,
		Isolation:      c.isolation,
		// Cloudflare compresses on the way out; a body with Content-Encoding
		// set would be compressed a second time (see server.Options).
		NoPrecompressed: true,
	}
}
