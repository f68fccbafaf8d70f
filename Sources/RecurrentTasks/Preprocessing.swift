import Foundation
import Recurrent

/// What a trained model needs to read new data as it read its training data, saved as
/// `preprocessing.json`: the task, the options it was trained with, and what was fitted on
/// the training part (scaler, vocabularies, label map, baselines' statistics).
public struct Preprocessing: Codable, Sendable {
    public var task: TaskKind
    public var options: TaskOptions
    public var forecast: ForecastPreprocessing?
    public var sequences: SequencePreprocessing?
    public var text: TextPreprocessing?
    public var characters: CharacterPreprocessing?
    public var tagging: TaggingPreprocessing?

    init(task: TaskKind, options: TaskOptions) {
        self.task = task
        self.options = options
    }

    func required<T>(_ part: T?, _ name: String) throws -> T {
        guard let part else {
            throw RecurrentError.invalidArgument("preprocessing.json has no \(name) section for task \(task.rawValue)")
        }
        return part
    }
}

/// Feature standardisation fitted on the training part.
public struct Scaler: Codable, Sendable {
    public var mean: [Float]
    public var scale: [Float]

    init(fitting rows: [[Float]], width: Int) {
        var mean = [Double](repeating: 0, count: width), square = mean
        for row in rows { for (i, v) in row.enumerated() { mean[i % width] += Double(v); square[i % width] += Double(v) * Double(v) } }
        let n = Double(max(rows.reduce(0) { $0 + $1.count } / max(width, 1), 1))
        self.mean = mean.map { Float($0 / n) }
        scale = zip(mean, square).map { m, s in
            let variance = s / n - (m / n) * (m / n)
            return variance > 1e-12 ? Float(variance.squareRoot()) : 1
        }
    }

    func apply(_ row: [Float]) -> [Float] {
        row.enumerated().map { (i, v) in (v - mean[i % mean.count]) / scale[i % mean.count] }
    }
}
