/// How a window slides over the time axis: `size` taps `dilation` steps apart, one window every
/// `stride` steps, after `left` and `right` steps of padding.
public struct WindowGeometry: Equatable, Sendable {
    public var size: Int, stride: Int, dilation: Int, left: Int, right: Int

    /// The number of windows over `steps` steps (may be zero or negative when the input is too short).
    public func windows(over steps: Int) -> Int {
        let span = dilation * (size - 1) + 1
        let padded = steps + left + right
        return padded < span ? 0 : (padded - span) / stride + 1
    }
}

extension Variable {
    /// [B, T, C] → [B, W, C, size]: for window w, channel c and tap j, the input at step
    /// w·stride + j·dilation − left, or `padValue` where that step is padding. Convolution and
    /// pooling over time are this followed by a product or a maximum.
    public func slidingWindows(_ geometry: WindowGeometry, padValue: Float = 0, operation: String) throws -> Variable {
        guard rank == 3 else {
            throw RecurrentError.shapeMismatch(operation: "\(operation) input", expected: "[batch, steps, channels]", got: shape)
        }
        let (B, T, C) = (shape[0], shape[1], shape[2])
        let W = geometry.windows(over: T), K = geometry.size
        guard W > 0 else {
            throw RecurrentError.invalidArgument(
                "\(operation): \(T) steps are too few for a window of \(K) taps \(geometry.dilation) apart "
                    + "(input shape \(Shape.describe(shape)))")
        }
        let (stride, dilation, left) = (geometry.stride, geometry.dilation, geometry.left)
        var result = Tensor(shape: [B, W, C, K], repeating: padValue)
        value.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { out in
                for b in 0..<B {
                    for w in 0..<W {
                        for j in 0..<K {
                            let t = w * stride + j * dilation - left
                            guard t >= 0 && t < T else { continue }
                            let source = (b * T + t) * C, target = (b * W + w) * C * K + j
                            for c in 0..<C { out[target + c * K] = x[source + c] }
                        }
                    }
                }
            }
        }
        let inputShape = shape
        return Variable.record(result, inputs: [self]) { g in
            var dx = Tensor.zeros(inputShape)
            g.withUnsafeBufferPointer { g in
                dx.withUnsafeMutableBufferPointer { dx in
                    for b in 0..<B {
                        for w in 0..<W {
                            for j in 0..<K {
                                let t = w * stride + j * dilation - left
                                guard t >= 0 && t < T else { continue }
                                let target = (b * T + t) * C, source = (b * W + w) * C * K + j
                                for c in 0..<C { dx[target + c] += g[source + c * K] }
                            }
                        }
                    }
                }
            }
            return [dx]
        }
    }
}
