import Testing
@testable import RecurrentTasks

/// The bag-of-words logistic regression behind `classify-text`'s baseline: its hand-written
/// gradient against central differences, and a fit that separates what words separate.
@Suite struct BagOfWordsTests {
    static let texts: [(ids: [Int], label: Int)] = [([1, 2, 2], 0), ([3, 4], 1), ([2, 5, 1, 1], 0), ([4, 4, 5], 2), ([3], 1), ([5, 2], 2)]

    @Test func gradientMatchesFiniteDifferences() {
        var model = BagOfWordsModel(classes: 3, weights: (0..<18).map { Float($0 % 7) * 0.3 - 0.9 }, bias: [0.2, -0.1, 0.05])
        let bags = Self.texts.map { BagOfWordsModel.bag($0.ids) }, labels = Self.texts.map(\.label)
        let (_, gw, gb) = model.loss(bags, labels)
        /// (L(v + ε) − L(v − ε)) / 2ε for one parameter reached through `value`.
        func numeric(_ value: WritableKeyPath<BagOfWordsModel, Float>) -> Double {
            let epsilon: Float = 1e-2, saved = model[keyPath: value]
            model[keyPath: value] = saved + epsilon
            let plus = model.loss(bags, labels, gradients: false).loss
            model[keyPath: value] = saved - epsilon
            let minus = model.loss(bags, labels, gradients: false).loss
            model[keyPath: value] = saved
            return (plus - minus) / Double(2 * epsilon)
        }
        for i in model.weights.indices { #expect(abs(Double(gw[i]) - numeric(\.weights[i])) < 1e-3, "weight \(i)") }
        for k in 0..<3 { #expect(abs(Double(gb[k]) - numeric(\.bias[k])) < 1e-3, "bias \(k)") }
    }

    @Test func fitSeparatesByWords() {
        let model = BagOfWordsModel.fit(train: Self.texts, validation: Self.texts, vocabulary: 6, classes: 3)
        for text in Self.texts { #expect(model.predict(text.ids) == text.label) }
        // Word 0 (never seen) and words past the vocabulary change nothing.
        #expect(model.predict([1, 0, 9]) == 0)
    }
}
