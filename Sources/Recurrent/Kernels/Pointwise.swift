import CRecurrentKernels

/// Element-wise nonlinearities over contiguous buffers. `x` and `y` may be the same buffer
/// (in place) but must not partially overlap.
///
/// These call the SIMD kernels of CRecurrentKernels (`rk_pointwise.h`), which pick the AVX-512,
/// AVX2, NEON or portable variant at run time. Relative error against double precision is a few
/// ulp (≤ 2e-7 measured) wherever the result is a normal float; ±∞ give the exact limits and NaN
/// propagates.
public enum Pointwise {
    /// `y[i] = 1 / (1 + exp(-x[i]))`.
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "Pointwise.sigmoid: negative count \(count)")
        rk_sigmoid(x, y, count)
    }

    /// `y[i] = tanh(x[i])`.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "Pointwise.tanh: negative count \(count)")
        rk_tanh(x, y, count)
    }

    /// `y[i] = max(x[i], 0)`; NaN stays NaN.
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "Pointwise.relu: negative count \(count)")
        rk_relu(x, y, count)
    }

    /// `y[i] = exp(x[i])`.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count >= 0, "Pointwise.exp: negative count \(count)")
        rk_exp(x, y, count)
    }
}
