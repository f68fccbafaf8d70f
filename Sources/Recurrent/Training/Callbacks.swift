import Foundation

/// Hooks into `fit` (Keras's callbacks). Every method has an empty default.
public protocol Callback: AnyObject {
    func onTrainBegin(model: Model) throws
    func onEpochBegin(_ epoch: Int, model: Model) throws
    /// `logs` holds the epoch's loss, metrics and `val_` entries.
    func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws
    func onBatchEnd(_ batch: Int, logs: [String: Float], model: Model) throws
    func onTrainEnd(model: Model) throws
}

extension Callback {
    public func onTrainBegin(model: Model) throws {}
    public func onEpochBegin(_ epoch: Int, model: Model) throws {}
    public func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws {}
    public func onBatchEnd(_ batch: Int, logs: [String: Float], model: Model) throws {}
    public func onTrainEnd(model: Model) throws {}
}

/// Whether larger or smaller values of a monitored quantity are better.
public enum MonitorMode: Sendable {
    case min, max
    /// `max` for accuracies, `min` for everything else (Keras's "auto").
    case auto

    func isImprovement(_ value: Float, over best: Float, minDelta: Float, monitor: String) -> Bool {
        let maximise = self == .max || (self == .auto && monitor.hasSuffix("accuracy"))
        return maximise ? value > best + minDelta : value < best - minDelta
    }
}

/// Stops training when `monitor` has not improved by `minDelta` for `patience` epochs; with
/// `restoreBestWeights`, the weights of the best epoch are put back when it stops.
public final class EarlyStopping: Callback {
    public let monitor: String
    public let minDelta: Float
    public let patience: Int
    public let mode: MonitorMode
    public let restoreBestWeights: Bool
    public private(set) var best: Float?
    public private(set) var bestEpoch: Int?
    /// The epoch after which training stopped, if it did.
    public private(set) var stoppedEpoch: Int?
    private var wait = 0
    private var bestWeights: [Tensor]?

    public init(
        monitor: String = "val_loss", minDelta: Float = 0, patience: Int = 0, mode: MonitorMode = .auto,
        restoreBestWeights: Bool = false
    ) {
        self.monitor = monitor
        self.minDelta = abs(minDelta)
        self.patience = patience
        self.mode = mode
        self.restoreBestWeights = restoreBestWeights
    }

    public func onTrainBegin(model: Model) throws {
        (best, bestEpoch, stoppedEpoch, wait, bestWeights) = (nil, nil, nil, 0, nil)
    }

    public func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws {
        guard let value = logs[monitor] else {
            throw RecurrentError.invalidArgument(
                "EarlyStopping: no \"\(monitor)\" in the logs (available: \(logs.keys.sorted().joined(separator: ", ")))")
        }
        if best == nil || mode.isImprovement(value, over: best!, minDelta: minDelta, monitor: monitor) {
            (best, bestEpoch, wait) = (value, epoch, 0)
            if restoreBestWeights { bestWeights = model.parameters.map(\.value) }
            return
        }
        wait += 1
        if wait >= patience {
            stoppedEpoch = epoch
            model.stopTraining = true
            if let bestWeights {
                for (parameter, value) in zip(model.parameters, bestWeights) { parameter.value = value }
            }
        }
    }
}

/// Saves the model after each epoch, or only when `monitor` improves. `{epoch}` in the path
/// becomes the epoch number (from 1). A `Sequential` is saved whole (architecture and
/// weights); other models save their weights. With `saveBestOnly`, `restoreBest(into:)` (or
/// `restoreBestAtEnd: true`, when fit ends) puts the best epoch's weights back in one call:
/// Keras's `restore_best_weights` exists only on EarlyStopping and acts only when it stops early.
public final class ModelCheckpoint: Callback {
    public let path: String
    public let monitor: String
    public let saveBestOnly: Bool
    public let mode: MonitorMode
    public let restoreBestAtEnd: Bool
    public private(set) var best: Float?
    /// The epoch (from 0) and the file of the last save.
    public private(set) var savedEpoch: Int?, savedPath: String?

    public init(
        path: String, monitor: String = "val_loss", saveBestOnly: Bool = false, mode: MonitorMode = .auto,
        restoreBestAtEnd: Bool = false
    ) {
        self.path = path
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.mode = mode
        self.restoreBestAtEnd = restoreBestAtEnd
    }

    public func onTrainBegin(model: Model) throws {
        if restoreBestAtEnd && !saveBestOnly {
            throw RecurrentError.invalidArgument("ModelCheckpoint: restoreBestAtEnd needs saveBestOnly: true")
        }
        (best, savedEpoch, savedPath) = (nil, nil, nil)
    }

    public func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws {
        if saveBestOnly {
            guard let value = logs[monitor] else {
                throw RecurrentError.invalidArgument("ModelCheckpoint: no \"\(monitor)\" in the logs")
            }
            guard best == nil || mode.isImprovement(value, over: best!, minDelta: 0, monitor: monitor) else { return }
            best = value
        }
        let target = path.replacingOccurrences(of: "{epoch}", with: String(epoch + 1))
        defer { (savedEpoch, savedPath) = (epoch, target) }
        guard model.isPrimaryProcess else { return }
        if let sequential = model as? Sequential {
            try sequential.save(to: target)
        } else {
            try model.saveWeights(to: target)
        }
    }

    public func onTrainEnd(model: Model) throws {
        if restoreBestAtEnd { try restoreBest(into: model) }
    }

    /// Loads the weights of the last save (with `saveBestOnly`, the best epoch's) into `model`.
    public func restoreBest(into model: Model) throws {
        guard let savedPath else { throw RecurrentError.invalidArgument("ModelCheckpoint: nothing saved yet to restore") }
        try model.loadWeights(from: savedPath)
    }
}

/// Sets the optimizer's learning rate at the start of each epoch (Keras's
/// `LearningRateScheduler`): from a closure of (epoch from 0, current rate), or a schedule.
public final class LearningRateScheduler: Callback {
    private let schedule: (Int, Float) -> Float

    public init(_ schedule: @escaping (_ epoch: Int, _ learningRate: Float) -> Float) {
        self.schedule = schedule
    }

    /// The schedule applied to the rate the optimizer had when training began.
    public convenience init(_ schedule: LearningRateSchedule) {
        var initial: Float?
        self.init { epoch, rate in
            if epoch == 0 || initial == nil { initial = rate }
            return schedule.learningRate(epoch: epoch, initial: initial!)
        }
    }

    public func onEpochBegin(_ epoch: Int, model: Model) throws {
        guard let optimizer = model.compiled?.optimizer else { return }
        let rate = schedule(epoch, optimizer.learningRate)
        guard rate.isFinite, rate >= 0 else {
            throw RecurrentError.invalidArgument("LearningRateScheduler: epoch \(epoch) gave learning rate \(rate)")
        }
        optimizer.learningRate = rate
    }
}

/// A callback from closures (Keras's `LambdaCallback`).
public final class LambdaCallback: Callback {
    private let epochEnd: ((Int, [String: Float]) throws -> Void)?
    private let batchEnd: ((Int, [String: Float]) throws -> Void)?

    public init(
        onEpochEnd: ((_ epoch: Int, _ logs: [String: Float]) throws -> Void)? = nil,
        onBatchEnd: ((_ batch: Int, _ logs: [String: Float]) throws -> Void)? = nil
    ) {
        epochEnd = onEpochEnd
        batchEnd = onBatchEnd
    }

    public func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws { try epochEnd?(epoch, logs) }
    public func onBatchEnd(_ batch: Int, logs: [String: Float], model: Model) throws { try batchEnd?(batch, logs) }
}

/// Where a `fit` stands between epochs: the next epoch to run and the shuffling stream. A
/// callback that restores a backup at the start of training moves both on.
final class FitProgress {
    var nextEpoch = 0
    var generator: SeededGenerator

    init(generator: SeededGenerator) { self.generator = generator }
}
