import CRecurrentKernels

/// Element-wise activations a layer can apply to its output (Keras's `activation=` names).
public enum ActivationFunction: String, Sendable, CaseIterable, Codable {
    case linear, relu, tanh, sigmoid, softmax
    /// Keras 3's `hard_sigmoid`: relu6(x + 3) / 6.
    case hardSigmoid = "hard_sigmoid"

    public func callAsFunction(_ x: Variable) throws -> Variable {
        switch self {
        case .linear: return x
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .softmax: return try x.softmax()
        case .hardSigmoid:
            let y = x.value.map(Self.hardSigmoid)
            return Variable.record(y, inputs: [x]) { g in
                [Tensor.zipMap(g, y) { g, y in y > 0 && y < 1 ? g / 6 : 0 }]
            }
        }
    }

    static func hardSigmoid(_ x: Float) -> Float { min(max(x + 3, 0), 6) / 6 }

    /// Whether the fused recurrent ops can apply it: element-wise, with a derivative that is a
    /// function of the output.
    public var isElementwise: Bool { self != .softmax }

    /// In place over a contiguous buffer (the fused recurrent ops' gates).
    func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .linear: break
        case .relu: Pointwise.relu(p, p, count: count)
        case .tanh: Pointwise.tanh(p, p, count: count)
        case .sigmoid: Pointwise.sigmoid(p, p, count: count)
        case .hardSigmoid: for i in 0..<count { p[i] = Self.hardSigmoid(p[i]) }
        case .softmax: preconditionFailure("softmax is not an element-wise activation")
        }
    }

    /// The code of the C kernels' cells for this activation (rk_activation).
    var kernelCode: Int32 {
        switch self {
        case .tanh: return Int32(RK_ACT_TANH.rawValue)
        case .sigmoid: return Int32(RK_ACT_SIGMOID.rawValue)
        case .relu: return Int32(RK_ACT_RELU.rawValue)
        case .linear: return Int32(RK_ACT_LINEAR.rawValue)
        case .hardSigmoid: return Int32(RK_ACT_HARD_SIGMOID.rawValue)
        case .softmax: preconditionFailure("softmax is not an element-wise activation")
        }
    }

    /// The derivative at the point where the activation's output is `y`.
    @inline(__always)
    func derivative(output y: Float) -> Float {
        switch self {
        case .linear: return 1
        case .relu: return y > 0 ? 1 : 0
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .hardSigmoid: return y > 0 && y < 1 ? 1 / 6 : 0
        case .softmax: preconditionFailure("softmax is not an element-wise activation")
        }
    }
}
