//go:build !amd64 || noasm

package vec

func axpy32(a float32, x, y []float32)                       { axpyGo(a, x, y) }
func axpy64(a float64, x, y []float64)                       { axpyGo(a, x, y) }
func axpb32(dst, x []float32, a, b float32)                  { axpbGo(dst, x, a, b) }
func axpb64(dst, x []float64, a, b float64)                  { axpbGo(dst, x, a, b) }
func scale32(dst, x []float32, a float32)                    { scaleGo(dst, x, a) }
func scale64(dst, x []float64, a float64)                    { scaleGo(dst, x, a) }
func add32(dst, x, y []float32)                              { addGo(dst, x, y) }
func add64(dst, x, y []float64)                              { addGo(dst, x, y) }
func sub32(dst, x, y []float32)                              { subGo(dst, x, y) }
func sub64(dst, x, y []float64)                              { subGo(dst, x, y) }
func mul32(dst, x, y []float32)                              { mulGo(dst, x, y) }
func mul64(dst, x, y []float64)                              { mulGo(dst, x, y) }
func relu32(dst, x []float32)                                { reluGo(dst, x) }
func relu64(dst, x []float64)                                { reluGo(dst, x) }
func reluBackward32(dx, dy, x []float32)                     { reluBackwardGo(dx, dy, x) }
func reluBackward64(dx, dy, x []float64)                     { reluBackwardGo(dx, dy, x) }
func sum32(x []float32) float32                              { return sumGo(x) }
func sum64(x []float64) float64                              { return sumGo(x) }
func dot32(x, y []float32) float32                           { return dotGo(x, y) }
func dot64(x, y []float64) float64                           { return dotGo(x, y) }
func sumSqDev32(x []float32, m float32) float32              { return sumSqDevGo(x, m) }
func sumSqDev64(x []float64, m float64) float64              { return sumSqDevGo(x, m) }
func axpbyc32(dst, x, y []float32, a, b, c float32)          { axpbycGo(dst, x, y, a, b, c) }
func axpbyc64(dst, x, y []float64, a, b, c float64)          { axpbycGo(dst, x, y, a, b, c) }
func leakyRelu32(dst, x []float32, slope float32)            { leakyReluGo(dst, x, slope) }
func leakyReluBackward32(dx, dy, x []float32, slope float32) { leakyReluBackwardGo(dx, dy, x, slope) }
func leakyRelu64(dst, x []float64, slope float64)            { leakyReluGo(dst, x, slope) }
func leakyReluBackward64(dx, dy, x []float64, slope float64) { leakyReluBackwardGo(dx, dy, x, slope) }
