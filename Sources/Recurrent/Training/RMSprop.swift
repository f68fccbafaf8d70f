/// RMSprop (Hinton), optionally centered and with momentum.
/// Keras defaults: learning rate 0.001, ρ 0.9, momentum 0, ε 1e-7.
public final class RMSprop: Optimizer {
    /// Decay of the running mean of squared gradients (PyTorch's `alpha`).
    public var rho: Float
    public var momentum: Float
    public var epsilon: Float
    public var centered: Bool
    public var weightDecay: Float

    public init(
        parameters: [Variable] = [], learningRate: Float = 0.001, rho: Float = 0.9, momentum: Float = 0,
        epsilon: Float = 1e-7, centered: Bool = false, weightDecay: Float = 0
    ) {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: learningRate)
    }

    /// Slots: mean square, momentum buffer, mean gradient (centered).
    override var stateSlots: Int { 3 }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        let lr = learningRate, rho = rho, mu = momentum, eps = epsilon, centered = centered, wd = weightDecay
        withBuffers(&parameter, gradient, &state) { p, g, slots in
            let square = slots[0], buffer = slots[1], mean = slots[2]
            for i in p.indices {
                let d = g[i] + wd * p[i]
                square[i] = rho * square[i] + (1 - rho) * d * d
                var variance = square[i]
                if centered {
                    mean[i] = rho * mean[i] + (1 - rho) * d
                    variance -= mean[i] * mean[i]
                }
                let scaled = d / (max(variance, 0).squareRoot() + eps)
                if mu > 0 {
                    buffer[i] = mu * buffer[i] + scaled
                    p[i] -= lr * buffer[i]
                } else {
                    p[i] -= lr * scaled
                }
            }
        }
    }
}
