/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.
/// Keras defaults: learning rate 0.01, no momentum.
public final class SGD: Optimizer {
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float

    public init(
        parameters: [Variable] = [], learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false,
        weightDecay: Float = 0
    ) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: learningRate)
    }

    override var stateSlots: Int { momentum == 0 ? 0 : 1 }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        let lr = learningRate, mu = momentum, wd = weightDecay, nesterov = nesterov
        withBuffers(&parameter, gradient, &state) { p, g, slots in
            for i in p.indices {
                var d = g[i] + wd * p[i]
                if mu != 0 {
                    // PyTorch: the buffer starts as the first gradient.
                    let buffer = step == 1 ? d : mu * slots[0][i] + d
                    slots[0][i] = buffer
                    d = nesterov ? d + mu * buffer : buffer
                }
                p[i] -= lr * d
            }
        }
    }
}
