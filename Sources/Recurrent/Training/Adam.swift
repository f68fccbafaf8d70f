import CRecurrentKernels
import Foundation

/// Adam (Kingma & Ba), and AdamW with decoupled weight decay (Loshchilov & Hutter).
/// Keras defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7.
public class Adam: Optimizer {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// L2 penalty added to the gradient (PyTorch Adam's `weight_decay`).
    public var weightDecay: Float
    /// Keep the maximum of past second moments (AMSGrad).
    public var amsgrad: Bool

    public init(
        parameters: [Variable] = [], learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-7, weightDecay: Float = 0, amsgrad: Bool = false
    ) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        super.init(parameters: parameters, learningRate: learningRate)
    }

    /// PyTorch face: `torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999),
    /// eps=1e-8, weight_decay=0, amsgrad=False)`, with PyTorch's defaults (ε 1e-8).
    public convenience init(
        _ parameters: [Variable], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
        weightDecay: Float = 0, amsgrad: Bool = false
    ) {
        self.init(
            parameters: parameters, learningRate: lr, beta1: betas.0, beta2: betas.1, epsilon: eps,
            weightDecay: weightDecay, amsgrad: amsgrad)
    }

    override var stateSlots: Int { amsgrad ? 3 : 2 }

    /// Multiplier applied to parameters before the Adam step (AdamW's decoupled decay).
    var decoupledDecayFactor: Float { 1 }
    /// L2 term added to gradients (Adam's coupled decay).
    var coupledDecay: Float { weightDecay }

    override func update(_ parameter: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, amsgrad = amsgrad
        let decay = decoupledDecayFactor, l2 = coupledDecay
        // Bias corrections in Double, as PyTorch computes them.
        let correction2Root = Float((1 - pow(Double(b2), Double(step))).squareRoot())
        let stepSize = Float(Double(lr) / (1 - pow(Double(b1), Double(step))))
        withBuffers(&parameter, gradient, &state) { p, g, slots in
            let m = slots[0], v = slots[1]
            if !amsgrad, let pp = p.baseAddress, let gp = g.baseAddress, let mp = m.baseAddress,
               let vp = v.baseAddress {
                // The same operations per element as below, vectorised (bit-identical results).
                rk_adam_update(p.count, pp, gp, mp, vp, decay, l2, b1, b2, stepSize, correction2Root, eps)
                return
            }
            for i in p.indices {
                p[i] *= decay
                let d = g[i] + l2 * p[i]
                m[i] = b1 * m[i] + (1 - b1) * d
                v[i] = b2 * v[i] + (1 - b2) * d * d
                var second = v[i]
                if amsgrad {
                    slots[2][i] = max(slots[2][i], v[i])
                    second = slots[2][i]
                }
                p[i] -= stepSize * m[i] / (second.squareRoot() / correction2Root + eps)
            }
        }
    }
}

/// Adam with decoupled weight decay: parameters shrink by `learningRate · weightDecay` each step.
/// Keras defaults: learning rate 0.001, weight decay 0.004, ε 1e-7.
public final class AdamW: Adam {
    public override init(
        parameters: [Variable] = [], learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-7, weightDecay: Float = 0.004, amsgrad: Bool = false
    ) {
        super.init(
            parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, amsgrad: amsgrad)
    }

    /// PyTorch face: `torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999),
    /// eps=1e-8, weight_decay=0.01, amsgrad=False)`, with PyTorch's defaults.
    public convenience init(
        _ parameters: [Variable], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
        weightDecay: Float = 1e-2, amsgrad: Bool = false
    ) {
        self.init(
            parameters: parameters, learningRate: lr, beta1: betas.0, beta2: betas.1, epsilon: eps,
            weightDecay: weightDecay, amsgrad: amsgrad)
    }

    override var decoupledDecayFactor: Float { 1 - learningRate * weightDecay }
    override var coupledDecay: Float { 0 }
}
