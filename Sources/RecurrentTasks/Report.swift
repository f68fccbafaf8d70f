import Foundation

/// A task's held-out evaluation: every number as JSON (`metrics.json`, `--json`), and the
/// headline rows people read first (metric, ours, the best baseline).
public struct TaskReport: Sendable {
    public struct Headline: Sendable {
        public var metric: String
        public var ours: Double
        public var baseline: String
        public var baselineValue: Double
        public var lowerIsBetter: Bool

        public var beatsBaseline: Bool { lowerIsBetter ? ours < baselineValue : ours > baselineValue }
    }

    public var metrics: JSON
    public var headlines: [Headline]

    public var text: String {
        headlines.map { h in
            String(format: "%@: %.4f   (%@: %.4f)", h.metric, h.ours, h.baseline, h.baselineValue)
        }.joined(separator: "\n")
    }
}

/// Accuracy, per-class precision / recall / F1 and the confusion matrix (rows: actual).
struct ClassificationScores {
    let labels: [String]
    var confusion: [[Int]]

    init(labels: [String], actual: [Int], predicted: [Int]) {
        self.labels = labels
        confusion = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
        for (a, p) in zip(actual, predicted) { confusion[a][p] += 1 }
    }

    var total: Int { confusion.joined().reduce(0, +) }
    var accuracy: Double { Double(labels.indices.reduce(0) { $0 + confusion[$1][$1] }) / Double(max(total, 1)) }

    func perClass(_ k: Int) -> (precision: Double, recall: Double, f1: Double, support: Int) {
        let tp = Double(confusion[k][k])
        let predicted = Double(labels.indices.reduce(0) { $0 + confusion[$1][k] })
        let support = confusion[k].reduce(0, +)
        let precision = predicted > 0 ? tp / predicted : 0, recall = support > 0 ? tp / Double(support) : 0
        return (precision, recall, precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0, support)
    }

    /// Macro F1 over the classes present in the data.
    var macroF1: Double {
        let present = labels.indices.filter { perClass($0).support > 0 }
        return present.map { perClass($0).f1 }.reduce(0, +) / Double(max(present.count, 1))
    }

    var json: [(String, JSON)] {
        [("accuracy", .number(accuracy)), ("macro_f1", .number(macroF1)), ("examples", .number(Double(total))),
         ("per_class", .object(labels.indices.map { k in
             let s = perClass(k)
             return (labels[k], .object([("precision", .number(s.precision)), ("recall", .number(s.recall)),
                                         ("f1", .number(s.f1)), ("support", .number(Double(s.support)))]))
         })),
         ("labels", .array(labels.map(JSON.string))),
         ("confusion_matrix", .array(confusion.map { .array($0.map { .number(Double($0)) }) }))]
    }
}

/// Softmax of each row of logits.
func probabilities(_ logits: [Float], classes: Int) -> [[Double]] {
    stride(from: 0, to: logits.count, by: classes).map { start in
        let row = logits[start..<(start + classes)].map(Double.init)
        let top = row.max() ?? 0
        let e = row.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}

func argmax(_ row: [Double]) -> Int { row.indices.max { row[$0] < row[$1] } ?? 0 }

/// Labels in a stable order: numerically when every label is a number, else as strings.
func sortedLabels(_ labels: Set<String>) -> [String] {
    if labels.allSatisfy({ Double($0) != nil }) { return labels.sorted { Double($0)! < Double($1)! } }
    return labels.sorted()
}

/// CSV field quoting (RFC 4180).
func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
