package weights

import "fmt"

// Config is the model configuration stored in a pack's header. It holds
// everything needed to rebuild the network and its sampler.
type Config struct {
	Name         string  // human label, e.g. "diffuir-tiny"
	Dim          int     // base channel width (32 or 64 for the official sizes)
	Mults        []int   // channel multiplier per UNet level (four levels)
	Groups       int     // GroupNorm groups (8)
	Heads        int     // attention heads (4)
	DimHead      int     // channels per head (32)
	Timesteps    int     // diffusion steps T used in training (1000)
	DeltaEnd     float32 // end of the delta schedule (1.8e-3)
	DefaultSteps int     // sampling steps used when the caller names none (3)
	// NormEps is the epsilon of the attention blocks' channel LayerNorm. The
	// authors pick it by precision (1e-5 in float32, 1e-3 in half), so
	// weights trained under bf16/f16 autocast learned 1e-3 and must run
	// with it: with 1e-5 they drift (a colour cast of ~6/255 measured).
	NormEps float32
	// GroupEps is the epsilon of the ResnetBlocks' GroupNorms (PyTorch's
	// default, 1e-5, unless whoever trained the weights chose another).
	GroupEps float32
}

// DefaultNormEps is NormEps for float32-trained weights (the authors' own)
// and for version-1 packs, which did not record it.
const DefaultNormEps = 1e-5

// DefaultGroupEps is GroupEps for the authors' weights and for version-1
// and -2 packs, which did not record it.
const DefaultGroupEps = 1e-5

// Validate reports whether c describes a network this runtime can build.
func (c Config) Validate() error {
	switch {
	case c.Dim <= 0 || c.Dim > 1024:
		return fmt.Errorf("config: dim %d out of range 1..1024", c.Dim)
	case len(c.Mults) < 1 || len(c.Mults) > 8:
		return fmt.Errorf("config: %d levels, want 1..8", len(c.Mults))
	case c.Groups <= 0:
		return fmt.Errorf("config: groups %d must be positive", c.Groups)
	case c.Heads <= 0 || c.DimHead <= 0:
		return fmt.Errorf("config: heads %d x dim_head %d must be positive", c.Heads, c.DimHead)
	case c.Timesteps < 2 || c.Timesteps > 100000:
		return fmt.Errorf("config: timesteps %d out of range 2..100000", c.Timesteps)
	case !(c.DeltaEnd > 0 && c.DeltaEnd < 1):
		return fmt.Errorf("config: delta_end %g out of range (0,1)", c.DeltaEnd)
	case c.DefaultSteps < 1 || c.DefaultSteps > 20:
		return fmt.Errorf("config: default steps %d out of range 1..20", c.DefaultSteps)
	case !(c.NormEps > 0 && c.NormEps <= 0.1):
		return fmt.Errorf("config: norm eps %g out of range (0,0.1]", c.NormEps)
	case !(c.GroupEps > 0 && c.GroupEps <= 0.1):
		return fmt.Errorf("config: group eps %g out of range (0,0.1]", c.GroupEps)
	}
	for i, m := range c.Mults {
		if m <= 0 || m > 64 {
			return fmt.Errorf("config: mult[%d] = %d out of range 1..64", i, m)
		}
		if c.Dim*m%c.Groups != 0 {
			return fmt.Errorf("config: level %d width %d not divisible by %d groups", i, c.Dim*m, c.Groups)
		}
	}
	if c.Dim%2 != 0 || c.Dim < 4 {
		return fmt.Errorf("config: dim %d must be even and at least 4 (sinusoidal embedding)", c.Dim)
	}
	return nil
}

// Official model sizes from the DiffUIR paper.
var (
	Tiny  = Config{Name: "diffuir-tiny", Dim: 32, Mults: []int{1, 1, 1, 1}, Groups: 8, Heads: 4, DimHead: 32, Timesteps: 1000, DeltaEnd: 1.8e-3, DefaultSteps: 3, NormEps: DefaultNormEps, GroupEps: DefaultGroupEps}
	Small = Config{Name: "diffuir-small", Dim: 32, Mults: []int{1, 2, 2, 4}, Groups: 8, Heads: 4, DimHead: 32, Timesteps: 1000, DeltaEnd: 1.8e-3, DefaultSteps: 3, NormEps: DefaultNormEps, GroupEps: DefaultGroupEps}
	Base  = Config{Name: "diffuir-base", Dim: 64, Mults: []int{1, 2, 2, 4}, Groups: 8, Heads: 4, DimHead: 32, Timesteps: 1000, DeltaEnd: 1.8e-3, DefaultSteps: 3, NormEps: DefaultNormEps, GroupEps: DefaultGroupEps}
	Large = Config{Name: "diffuir-large", Dim: 64, Mults: []int{1, 2, 4, 8}, Groups: 8, Heads: 4, DimHead: 32, Timesteps: 1000, DeltaEnd: 1.8e-3, DefaultSteps: 3, NormEps: DefaultNormEps, GroupEps: DefaultGroupEps}
)
