/// Adagrad (Duchi et al.): per-element learning rates from the sum of squared gradients.
/// Keras defaults: learning rate 0.001, initial accumulator 0.1, ε 1e-7.
public final class Adagrad: Optimizer {
    public var initialAccumulatorValue: Float
    public var epsilon: Float
    public var weightDecay: Float

    public init(
        parameters: [Variable] = [], learningRate: Float = 0.001, initialAccumulatorValue: Float = 0.1,
        epsilon: Float = 1e-7, weightDecay: Float = 0
    ) {
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: learningRate)
    }

    override var stateSlots: Int { 1 }

    override func initialState(like parameter: Tensor) -> Tensor {
        Tensor(shape: parameter.shape, repeating: initialAccumulatorValue)
    }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        let lr = learningRate, eps = epsilon, wd = weightDecay
        withBuffers(&parameter, gradient, &state) { p, g, slots in
            let sum = slots[0]
            for i in p.indices {
                let d = g[i] + wd * p[i]
                sum[i] += d * d
                p[i] -= lr * d / (sum[i].squareRoot() + eps)
            }
        }
    }
}
