package ref

import "math"

// Conv2D: out (cout, ho, wo) = bias + w (cout, cin, k, k) * in (cin, h, w),
// zero padding pad, stride s; ho = (h+2*pad-k)/s + 1. bias may be nil.
func Conv2D(out, in, w, bias []float32, cin, h, wd, cout, k, s, pad int) {
	ho, wo := (h+2*pad-k)/s+1, (wd+2*pad-k)/s+1
	for co := 0; co < cout; co++ {
		for y := 0; y < ho; y++ {
			for x := 0; x < wo; x++ {
				var acc float32
				if bias != nil {
					acc = bias[co]
				}
				for ci := 0; ci < cin; ci++ {
					for ky := 0; ky < k; ky++ {
						iy := y*s + ky - pad
						if iy < 0 || iy >= h {
							continue
						}
						for kx := 0; kx < k; kx++ {
							ix := x*s + kx - pad
							if ix < 0 || ix >= wd {
								continue
							}
							acc += w[((co*cin+ci)*k+ky)*k+kx] * in[(ci*h+iy)*wd+ix]
						}
					}
				}
				out[(co*ho+y)*wo+x] = acc
			}
		}
	}
}

// Upsample2x: out (c, 2h, 2w) = nearest-neighbour upsampling of in (c, h, w).
func Upsample2x(out, in []float32, c, h, w int) {
	for ci := 0; ci < c; ci++ {
		for y := 0; y < 2*h; y++ {
			for x := 0; x < 2*w; x++ {
				out[(ci*2*h+y)*2*w+x] = in[(ci*h+y/2)*w+x/2]
			}
		}
	}
}

// GroupNorm: out (c, n) = (in - mean_g)/sqrt(var_g + eps)*gamma + beta over
// groups of c/groups channels and all n pixels; biased variance as PyTorch.
func GroupNorm(out, in, gamma, beta []float32, c, n, groups int, eps float32) {
	cg := c / groups
	for g := 0; g < groups; g++ {
		seg := in[g*cg*n : (g+1)*cg*n]
		var sum float64
		for _, v := range seg {
			sum += float64(v)
		}
		mean := sum / float64(len(seg))
		var sq float64
		for _, v := range seg {
			d := float64(v) - mean
			sq += d * d
		}
		inv := 1 / math.Sqrt(sq/float64(len(seg))+float64(eps))
		for ci := g * cg; ci < (g+1)*cg; ci++ {
			for i := 0; i < n; i++ {
				out[ci*n+i] = float32((float64(in[ci*n+i])-mean)*inv)*gamma[ci] + beta[ci]
			}
		}
	}
}

// ScaleShift: x (c, n) = x*(scale+1) + shift, per channel, in place.
func ScaleShift(x, scale, shift []float32, c, n int) {
	for ci := 0; ci < c; ci++ {
		for i := 0; i < n; i++ {
			x[ci*n+i] = x[ci*n+i]*(scale[ci]+1) + shift[ci]
		}
	}
}

// SiLU: x = x*sigmoid(x), in place.
func SiLU(x []float32) {
	for i, v := range x {
		x[i] = v / (1 + float32(math.Exp(float64(-v))))
	}
}

// GELU: x = x*Φ(x) with the exact erf, in place.
func GELU(x []float32) {
	for i, v := range x {
		x[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2)))
	}
}

// Add: out (n) = a + b. out may alias a or b.
func Add(out, a, b []float32) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// ChannelLayerNorm: out (c, n) = (in - mean_c)/sqrt(var_c + eps)*g, statistics
// over the c channels of each pixel, biased variance, no bias term.
func ChannelLayerNorm(out, in, g []float32, c, n int, eps float32) {
	for i := 0; i < n; i++ {
		var sum float64
		for ci := 0; ci < c; ci++ {
			sum += float64(in[ci*n+i])
		}
		mean := sum / float64(c)
		var sq float64
		for ci := 0; ci < c; ci++ {
			d := float64(in[ci*n+i]) - mean
			sq += d * d
		}
		inv := 1 / math.Sqrt(sq/float64(c)+float64(eps))
		for ci := 0; ci < c; ci++ {
			out[ci*n+i] = float32((float64(in[ci*n+i])-mean)*inv) * g[ci]
		}
	}
}

// Linear: out (nout) = w (nout, nin) · in (nin) + b (nout).
func Linear(out, in, w, b []float32, nout, nin int) {
	for o := 0; o < nout; o++ {
		acc := b[o]
		for i := 0; i < nin; i++ {
			acc += w[o*nin+i] * in[i]
		}
		out[o] = acc
	}
}

// SinusoidalEmbedding: out (dim) = [sin(t·f_i), cos(t·f_i)], f_i =
// exp(-i·ln(10000)/(dim/2-1)), i < dim/2, computed in float32 like PyTorch.
func SinusoidalEmbedding(out []float32, t float32, dim int) {
	half := dim / 2
	scale := float32(math.Log(10000) / float64(half-1))
	for i := 0; i < half; i++ {
		f := float32(math.Exp(float64(float32(i) * -scale)))
		a := t * f
		out[i] = float32(math.Sin(float64(a)))
		out[half+i] = float32(math.Cos(float64(a)))
	}
}

// LinearAttention: out (heads*dh, n) from qkv (3*heads*dh, n) laid out as
// q, k, v blocks of heads*dh channels. Per head: q softmax over its dh
// channels and scaled by dh^-1/2, k softmax over the n pixels, v/n,
// ctx (dh×dh) = Σ_n k vᵀ, out = ctxᵀ q.
func LinearAttention(out, qkv []float32, heads, dh, n int) {
	hid := heads * dh
	scale := float32(1 / math.Sqrt(float64(dh)))
	q := make([]float32, dh*n)
	k := make([]float32, dh*n)
	ctx := make([]float32, dh*dh)
	for h := 0; h < heads; h++ {
		copy(q, qkv[(h*dh)*n:(h*dh+dh)*n])
		copy(k, qkv[(hid+h*dh)*n:(hid+h*dh+dh)*n])
		v := qkv[(2*hid+h*dh)*n : (2*hid+h*dh+dh)*n]
		for i := 0; i < n; i++ { // q: softmax over channels
			m := float32(math.Inf(-1))
			for d := 0; d < dh; d++ {
				m = max(m, q[d*n+i])
			}
			var s float32
			for d := 0; d < dh; d++ {
				e := float32(math.Exp(float64(q[d*n+i] - m)))
				q[d*n+i] = e
				s += e
			}
			for d := 0; d < dh; d++ {
				q[d*n+i] = q[d*n+i] / s * scale
			}
		}
		for d := 0; d < dh; d++ { // k: softmax over pixels
			row := k[d*n : (d+1)*n]
			m := float32(math.Inf(-1))
			for _, v := range row {
				m = max(m, v)
			}
			var s float32
			for i, v := range row {
				row[i] = float32(math.Exp(float64(v - m)))
				s += row[i]
			}
			for i := range row {
				row[i] /= s
			}
		}
		for d := 0; d < dh; d++ {
			for e := 0; e < dh; e++ {
				var acc float32
				for i := 0; i < n; i++ {
					acc += k[d*n+i] * (v[e*n+i] / float32(n))
				}
				ctx[d*dh+e] = acc
			}
		}
		for e := 0; e < dh; e++ {
			for i := 0; i < n; i++ {
				var acc float32
				for d := 0; d < dh; d++ {
					acc += ctx[d*dh+e] * q[d*n+i]
				}
				out[(h*dh+e)*n+i] = acc
			}
		}
	}
}

// Attention: out (heads*dh, n) from qkv (3*heads*dh, n): per head
// softmax((q·dh^-1/2)ᵀ k) over keys, times v. Materialises one n-row of
// scores at a time.
func Attention(out, qkv []float32, heads, dh, n int) {
	hid := heads * dh
	scale := float32(1 / math.Sqrt(float64(dh)))
	p := make([]float32, n)
	for h := 0; h < heads; h++ {
		q := qkv[(h*dh)*n:]
		k := qkv[(hid+h*dh)*n:]
		v := qkv[(2*hid+h*dh)*n:]
		for i := 0; i < n; i++ {
			m := float32(math.Inf(-1))
			for j := 0; j < n; j++ {
				var s float32
				for d := 0; d < dh; d++ {
					s += q[d*n+i] * scale * k[d*n+j]
				}
				p[j] = s
				m = max(m, s)
			}
			var sum float32
			for j := range p {
				p[j] = float32(math.Exp(float64(p[j] - m)))
				sum += p[j]
			}
			for d := 0; d < dh; d++ {
				var acc float32
				for j := 0; j < n; j++ {
					acc += p[j] * v[d*n+j]
				}
				out[(h*dh+d)*n+i] = acc / sum
			}
		}
	}
}

// ReflectPad: out (c, h+ph, w+pw) = in (c, h, w) reflected (without
// repeating the edge, as PyTorch's 'reflect') into ph extra rows at the
// bottom and pw extra columns at the right. Pads wider than the image
// reflect back and forth, so any size works.
func ReflectPad(out, in []float32, c, h, w, ph, pw int) {
	ho, wo := h+ph, w+pw
	for ci := 0; ci < c; ci++ {
		for y := 0; y < ho; y++ {
			sy := Reflect(y, h)
			for x := 0; x < wo; x++ {
				out[(ci*ho+y)*wo+x] = in[(ci*h+sy)*w+Reflect(x, w)]
			}
		}
	}
}

// Reflect maps index i >= 0 into [0, n) by mirror reflection without edge
// repetition (period 2n-2).
func Reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2*n - 2
	i %= p
	if i >= n {
		i = p - i
	}
	return i
}

// Crop: out (c, h, w) = the top-left h×w window of in (c, hi, wi).
func Crop(out, in []float32, c, hi, wi, h, w int) {
	for ci := 0; ci < c; ci++ {
		for y := 0; y < h; y++ {
			copy(out[(ci*h+y)*w:(ci*h+y+1)*w], in[(ci*hi+y)*wi:])
		}
	}
}
