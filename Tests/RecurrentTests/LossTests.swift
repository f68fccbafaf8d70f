import Foundation
import Testing
@testable import Recurrent

@Suite struct LossTests {
    let logits = random([4, 5], seed: 21, low: -3, high: 3)
    let labels = Tensor([0, 4, 2, 2])

    @Test func gradientsMatchFiniteDifferences() throws {
        let target = random([4, 5], seed: 22)
        let probabilities = random([4, 5], seed: 23, low: 0.05, high: 0.95)
        let binaryTarget = random([4, 5], seed: 24, low: 0, high: 1)
        let oneHot = try Loss.oneHot(labels, classes: 5, loss: "test")
        let cases: [(Loss, Tensor, Tensor)] = [
            (.meanSquaredError, logits, target),
            (.meanAbsoluteError, logits, target),
            (.binaryCrossEntropy(fromLogits: true), logits, binaryTarget),
            (.binaryCrossEntropy(fromLogits: false), probabilities, binaryTarget),
            (.categoricalCrossEntropy(fromLogits: true), logits, oneHot),
            (.categoricalCrossEntropy(fromLogits: false), probabilities, oneHot),
            (.sparseCategoricalCrossEntropy(fromLogits: true), logits, labels),
            (.sparseCategoricalCrossEntropy(fromLogits: false), probabilities, labels),
        ]
        for (loss, input, target) in cases {
            try checkGradients([input], epsilon: 1e-3, atol: 2e-4, rtol: 1e-2) { try loss($0[0], target) }
        }
    }

    @Test func closedFormValues() throws {
        // Uniform logits over C classes: cross-entropy is log C.
        let uniform = Variable(Tensor.zeros([3, 4]))
        #expect(abs(try Loss.crossEntropy(uniform, Tensor([0, 1, 3])).value.scalar - log(4)) < 1e-6)
        // MSE / MAE of a known difference.
        let p = Variable(Tensor([1, 2, 3])), t = Tensor([1, 0, 6])
        #expect(try Loss.meanSquaredError(p, t).value.scalar == 13.0 / 3)
        #expect(try Loss.meanAbsoluteError(p, t).value.scalar == 5.0 / 3)
        // BCE: −log 0.8 for a confident right answer; logits form agrees with the probability form.
        let bce = try Loss.binaryCrossEntropy()(Variable(Tensor([0.8])), Tensor([1])).value.scalar
        #expect(abs(bce + log(0.8)) < 1e-6)
        let x: Float = 1.3862944 // logit of 0.8
        let bceLogits = try Loss.binaryCrossEntropy(fromLogits: true)(Variable(Tensor([x])), Tensor([1])).value.scalar
        #expect(abs(bceLogits - bce) < 1e-6)
        // Extreme logits stay finite (stable formulation).
        let extreme = try Loss.binaryCrossEntropy(fromLogits: true)(Variable(Tensor([-200, 200])), Tensor([1, 0]))
        #expect(abs(extreme.value.scalar - 200) < 1e-3)
        // Probabilities that are exactly 0 or 1 are clipped like Keras: finite loss.
        let clipped = try Loss.binaryCrossEntropy()(Variable(Tensor([0, 1])), Tensor([1, 0]))
        let e: Float = 1e-7
        #expect(abs(clipped.value.scalar - -(log(e) + log(1 - (1 - e))) / 2) < 1e-5)
    }

    @Test func sparseEqualsCategoricalOnOneHot() throws {
        let oneHot = try Loss.oneHot(labels, classes: 5, loss: "test")
        let a = try Loss.sparseCategoricalCrossEntropy(fromLogits: true)(Variable(logits), labels).value.scalar
        let b = try Loss.categoricalCrossEntropy(fromLogits: true)(Variable(logits), oneHot).value.scalar
        #expect(abs(a - b) < 1e-6)
        // Labels given as [B, 1] are accepted like [B].
        let c = try Loss.crossEntropy(Variable(logits), try labels.reshaped([4, 1])).value.scalar
        #expect(a == c)
    }

    @Test func badTargetsAreNamedErrors() throws {
        #expect(throws: RecurrentError.self) { try Loss.meanSquaredError(Variable(logits), Tensor.zeros([4, 4])) }
        #expect(throws: RecurrentError.self) { try Loss.crossEntropy(Variable(logits), Tensor([0, 5, 1, 1])) }
        #expect(throws: RecurrentError.self) { try Loss.crossEntropy(Variable(logits), Tensor([0, 1.5, 1, 1])) }
        #expect(throws: RecurrentError.self) { try Loss.crossEntropy(Variable(logits), Tensor([0, 1])) }
        do {
            _ = try Loss.crossEntropy(Variable(logits), Tensor([0, -1, 1, 1]))
        } catch let error as RecurrentError {
            #expect(error.description.contains("label -1.0 at position 1"))
        }
    }

    @Test func predictionOfShapeBatchByOneTakesFlatTargets() throws {
        let p = Variable(Tensor.zeros([3, 1]))
        #expect(try Loss.meanSquaredError(p, Tensor([1, 1, 1])).value.scalar == 1)
    }
}
