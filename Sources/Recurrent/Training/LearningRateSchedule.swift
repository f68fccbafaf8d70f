import Foundation

/// A learning rate as a function of the epoch (counted from 0), given the initial rate.
public protocol LearningRateSchedule: Sendable {
    func learningRate(epoch: Int, initial: Float) -> Float
}

/// Multiplies the rate by `gamma` every `stepSize` epochs (PyTorch's `StepLR`).
public struct StepDecay: LearningRateSchedule {
    public let stepSize: Int
    public let gamma: Float

    public init(stepSize: Int, gamma: Float = 0.1) throws {
        guard stepSize > 0 else {
            throw RecurrentError.invalidArgument("StepDecay: stepSize must be positive, got \(stepSize)")
        }
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(epoch: Int, initial: Float) -> Float {
        initial * pow(gamma, Float(epoch / stepSize))
    }
}

/// Cosine annealing from the initial rate to `minimum` over `period` epochs, then back up
/// (PyTorch's `CosineAnnealingLR` without restarts).
public struct CosineAnnealing: LearningRateSchedule {
    public let period: Int
    public let minimum: Float

    public init(period: Int, minimum: Float = 0) throws {
        guard period > 0 else {
            throw RecurrentError.invalidArgument("CosineAnnealing: period must be positive, got \(period)")
        }
        self.period = period
        self.minimum = minimum
    }

    public func learningRate(epoch: Int, initial: Float) -> Float {
        let phase = Double.pi * Double(epoch) / Double(period)
        return minimum + (initial - minimum) * Float((1 + cos(phase)) / 2)
    }
}

extension Optimizer {
    /// Sets the learning rate for `epoch` from `schedule`, starting from `initial`.
    public func apply(_ schedule: LearningRateSchedule, epoch: Int, initial: Float) {
        learningRate = schedule.learningRate(epoch: epoch, initial: initial)
    }
}
