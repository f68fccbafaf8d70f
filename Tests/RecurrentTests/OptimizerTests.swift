import Foundation
import Testing
@testable import Recurrent

/// Optimizers, clipping and schedules against numbers PyTorch wrote
/// (`tools/reference/make_optimizer_fixtures.py`, torch 2.13.0): three steps of linear
/// regression under each optimizer, parameters compared after every step.
/// Tolerance: |ours − torch| ≤ 1e-6 + 1e-5·|torch| (float32 arithmetic in a different order).
@Suite struct OptimizerTests {
    struct Case: Decodable {
        let name: String
        let optimizer: String
        let lr: Float
        let momentum: Float?
        let nesterov: Bool?
        let weight_decay: Float?
        let betas: [Float]?
        let eps: Float?
        let alpha: Float?
        let centered: Bool?
        let initial_accumulator_value: Float?
        let amsgrad: Bool?
    }

    static func loadFixture() throws -> (tensors: [String: Tensor], cases: [Case]) {
        let (tensors, metadata) = try Fixtures.load("optimizers")
        return (tensors, try JSONDecoder().decode([Case].self, from: Data((metadata["cases"] ?? "").utf8)))
    }
    // Loaded once; a missing or unreadable fixture fails `fixtureCoversEveryOptimizer` instead of crashing.
    static let fixture = try? loadFixture()
    static var cases: [Case] { fixture?.cases ?? [] }

    func makeOptimizer(_ c: Case, _ parameters: [Variable]) -> Optimizer {
        switch c.optimizer {
        case "sgd":
            return SGD(parameters: parameters, learningRate: c.lr, momentum: c.momentum!, nesterov: c.nesterov!,
                       weightDecay: c.weight_decay!)
        case "adam":
            return Adam(parameters: parameters, learningRate: c.lr, beta1: c.betas![0], beta2: c.betas![1],
                        epsilon: c.eps!, weightDecay: c.weight_decay!, amsgrad: c.amsgrad!)
        case "adamw":
            return AdamW(parameters: parameters, learningRate: c.lr, beta1: c.betas![0], beta2: c.betas![1],
                         epsilon: c.eps!, weightDecay: c.weight_decay!, amsgrad: c.amsgrad!)
        case "rmsprop":
            return RMSprop(parameters: parameters, learningRate: c.lr, rho: c.alpha!, momentum: c.momentum!,
                           epsilon: c.eps!, centered: c.centered!, weightDecay: c.weight_decay!)
        case "adagrad":
            return Adagrad(parameters: parameters, learningRate: c.lr,
                           initialAccumulatorValue: c.initial_accumulator_value!, epsilon: c.eps!,
                           weightDecay: c.weight_decay!)
        default:
            fatalError("unknown optimizer \(c.optimizer) in fixture")
        }
    }

    @Test func fixtureCoversEveryOptimizer() throws {
        _ = try Self.loadFixture()
        #expect(Set(Self.cases.map(\.optimizer)) == ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
    }

    @Test(arguments: Self.cases.map(\.name))
    func threeStepsMatchPyTorch(name: String) throws {
        let c = Self.cases.first { $0.name == name }!
        let t = try #require(Self.fixture).tensors
        let x = Variable(t["x"]!), y = t["y"]!
        let w = Variable(t["W0"]!, requiresGrad: true), b = Variable(t["b0"]!, requiresGrad: true)
        let optimizer = makeOptimizer(c, [w, b])
        for step in 1...3 {
            optimizer.zeroGradients()
            let loss = try Loss.meanSquaredError(try (try x.matmul(w)) + b, y)
            expectClose(try loss.value.reshaped([1]), t["\(name).loss\(step)"]!, rtol: 1e-5, "\(name) loss \(step)")
            try loss.backward()
            try optimizer.step()
            expectClose(w.value, t["\(name).W\(step)"]!, atol: 1e-6, rtol: 1e-5, "\(name) W after step \(step)")
            expectClose(b.value, t["\(name).b\(step)"]!, atol: 1e-6, rtol: 1e-5, "\(name) b after step \(step)")
        }
    }

    @Test func gradientClippingMatchesPyTorch() throws {
        let t = try #require(Self.fixture).tensors
        func parameters() -> [Variable] {
            [t["clip.g0"]!, t["clip.g1"]!].map { g in
                let v = Variable(Tensor.zeros(g.shape), requiresGrad: true)
                v.grad = g
                return v
            }
        }
        let byNorm = parameters()
        let norm = try clipGradientNorm(byNorm, maximumNorm: 0.5)
        #expect(abs(norm - t["clip.norm_total"]!.scalar) <= 1e-5 * norm)
        expectClose(byNorm[0].grad!, t["clip.norm_g0"]!, "clip_grad_norm_ g0")
        expectClose(byNorm[1].grad!, t["clip.norm_g1"]!, "clip_grad_norm_ g1")
        let byValue = parameters()
        clipGradientValues(byValue, maximum: 1)
        expectClose(byValue[0].grad!, t["clip.value_g0"]!, "clip_grad_value_ g0")
        expectClose(byValue[1].grad!, t["clip.value_g1"]!, "clip_grad_value_ g1")
    }

    @Test func schedulesMatchPyTorch() throws {
        let t = try #require(Self.fixture).tensors
        let step = try StepDecay(stepSize: 2, gamma: 0.5)
        expectClose(Tensor((0..<8).map { step.learningRate(epoch: $0, initial: 0.1) }), t["sched.step"]!, "StepLR")
        let cosine = try CosineAnnealing(period: 6, minimum: 0.001)
        expectClose(Tensor((0..<10).map { cosine.learningRate(epoch: $0, initial: 0.1) }), t["sched.cosine"]!,
                    atol: 1e-6, rtol: 1e-5, "CosineAnnealingLR")
    }

    @Test func defaultsAreKeras() {
        let p = [Variable(Tensor([1]), requiresGrad: true)]
        #expect(SGD(parameters: p).learningRate == 0.01)
        let adam = Adam(parameters: p)
        #expect(adam.learningRate == 0.001 && adam.beta1 == 0.9 && adam.beta2 == 0.999 && adam.epsilon == 1e-7)
        #expect(AdamW(parameters: p).weightDecay == 0.004)
        let rms = RMSprop(parameters: p)
        #expect(rms.learningRate == 0.001 && rms.rho == 0.9 && rms.epsilon == 1e-7 && rms.momentum == 0)
        let adagrad = Adagrad(parameters: p)
        #expect(adagrad.learningRate == 0.001 && adagrad.initialAccumulatorValue == 0.1 && adagrad.epsilon == 1e-7)
    }

    @Test func optimizerClipsBeforeUpdating() throws {
        let w = Variable(Tensor([0, 0]), requiresGrad: true)
        let sgd = SGD(parameters: [w], learningRate: 1)
        sgd.clipNorm = 1
        w.grad = Tensor([3, 4])
        try sgd.step()
        expectClose(w.value, Tensor([-0.6, -0.8]), atol: 1e-6)
        sgd.clipNorm = nil
        sgd.clipValue = 0.5
        w.grad = Tensor([3, -0.25])
        try sgd.step()
        expectClose(w.value, Tensor([-1.1, -0.55]), atol: 1e-6)
        sgd.zeroGradients()
        #expect(w.grad == nil)
        #expect(throws: RecurrentError.self) { try clipGradientNorm([w], maximumNorm: 0) }
    }
}
