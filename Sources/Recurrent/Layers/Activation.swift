/// Element-wise activations a layer can apply to its output (Keras's `activation=` names).
public enum ActivationFunction: String, Sendable, CaseIterable {
    case linear, relu, tanh, sigmoid, softmax

    public func callAsFunction(_ x: Variable) throws -> Variable {
        switch self {
        case .linear: return x
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .softmax: return try x.softmax()
        }
    }
}
