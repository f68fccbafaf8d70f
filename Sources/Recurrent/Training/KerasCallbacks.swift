import Foundation

/// Multiplies the learning rate by `factor` when `monitor` has not improved by `minDelta` for
/// `patience` epochs (Keras's `ReduceLROnPlateau`), never below `minLR`; after a reduction,
/// `cooldown` epochs pass before waiting starts again.
public final class ReduceLROnPlateau: Callback {
    public let monitor: String
    /// A Double, as Keras's Python float is: the new rate is computed in double precision.
    public let factor: Double
    public let patience: Int
    public let mode: MonitorMode
    public let minDelta: Float
    public let cooldown: Int
    public let minLR: Float
    public private(set) var best: Float?
    private var wait = 0, cooldownCounter = 0

    public init(
        monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, mode: MonitorMode = .auto,
        minDelta: Float = 1e-4, cooldown: Int = 0, minLR: Float = 0
    ) {
        (self.monitor, self.factor, self.patience, self.mode) = (monitor, factor, patience, mode)
        (self.minDelta, self.cooldown, self.minLR) = (abs(minDelta), cooldown, minLR)
    }

    public func onTrainBegin(model: Model) throws {
        guard factor < 1, factor >= 0 else {
            throw RecurrentError.invalidArgument("ReduceLROnPlateau: factor must be in [0, 1), got \(factor)")
        }
        (best, wait, cooldownCounter) = (nil, 0, 0)
    }

    public func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws {
        guard let value = logs[monitor] else {
            throw RecurrentError.invalidArgument(
                "ReduceLROnPlateau: no \"\(monitor)\" in the logs (available: \(logs.keys.sorted().joined(separator: ", ")))")
        }
        guard let optimizer = model.compiled?.optimizer else {
            throw RecurrentError.invalidArgument("ReduceLROnPlateau: the model is not compiled, so it has no optimizer")
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            wait = 0
        }
        if best == nil || mode.isImprovement(value, over: best!, minDelta: minDelta, monitor: monitor) {
            (best, wait) = (value, 0)
        } else if cooldownCounter == 0 {
            wait += 1
            if wait >= patience && optimizer.learningRate > minLR {
                optimizer.learningRate = Float(max(Double(optimizer.learningRate) * factor, Double(minLR)))
                (cooldownCounter, wait) = (cooldown, 0)
            }
        }
    }
}

/// Stops training after the batch whose running loss is NaN or infinite (Keras's
/// `TerminateOnNaN`); with `raiseError`, `fit` throws instead.
public final class TerminateOnNaN: Callback {
    public let raiseError: Bool
    /// The batch (from 0, in its epoch) after which training stopped, if it did.
    public private(set) var stoppedAfterBatch: Int?

    public init(raiseError: Bool = false) { self.raiseError = raiseError }

    public func onTrainBegin(model: Model) throws { stoppedAfterBatch = nil }

    public func onBatchEnd(_ batch: Int, logs: [String: Float], model: Model) throws {
        guard let loss = logs["loss"], !loss.isFinite else { return }
        if raiseError {
            throw RecurrentError.nonFinite("TerminateOnNaN: the loss is \(loss) after batch \(batch)")
        }
        stoppedAfterBatch = batch
        model.progressWriter("Batch \(batch): Invalid loss, terminating training\n")
        model.stopTraining = true
    }
}

/// Writes each epoch's logs as a row of a CSV file (Keras's `CSVLogger`): a header of `epoch`
/// and the first epoch's keys sorted (with `val_` columns, `NA` in them, when there is no
/// validation), values as Keras prints them. With `append`, rows go after an existing file's.
public final class CSVLogger: Callback {
    public let path: String
    public let separator: String
    public let append: Bool
    private var keys: [String]?
    private var handle: FileHandle?
    private var writeHeader = true

    public init(_ path: String, separator: String = ",", append: Bool = false) {
        (self.path, self.separator, self.append) = (path, separator, append)
    }

    public func onTrainBegin(model: Model) throws {
        guard model.isPrimaryProcess else { return }   // rank 0 alone writes the log
        let manager = FileManager.default
        let existing = append ? (try? manager.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 : 0
        writeHeader = existing == 0
        if !append || existing == 0 {
            guard manager.createFile(atPath: path, contents: nil) else {
                throw RecurrentError.file(path: path, problem: "cannot create the CSV log")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw RecurrentError.file(path: path, problem: "cannot open the CSV log for writing")
        }
        try handle.seekToEnd()
        (self.handle, keys) = (handle, nil)
    }

    public func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws {
        guard model.isPrimaryProcess else { return }
        if keys == nil {
            var sorted = logs.keys.sorted()
            if !sorted.contains(where: { $0.hasPrefix("val_") }) { sorted += sorted.map { "val_" + $0 } }
            keys = sorted
        }
        var text = ""
        if writeHeader {
            text += (["epoch"] + keys!).joined(separator: separator) + "\r\n"
            writeHeader = false
        }
        text += ([String(epoch)] + keys!.map { logs[$0].map(Self.format) ?? "NA" }).joined(separator: separator) + "\r\n"
        do {
            try handle?.write(contentsOf: Data(text.utf8))
        } catch {
            throw RecurrentError.file(path: path, problem: "cannot write the CSV log: \(error.localizedDescription)")
        }
    }

    public func onTrainEnd(model: Model) throws {
        try handle?.close()
        handle = nil
    }

    /// A value as Python prints the float Keras logs: the shortest text of the double that
    /// this Float is (`0.6931471824645996`, `3.0`, `nan`).
    static func format(_ value: Float) -> String {
        let d = Double(value)
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        return "\(d)"
    }
}

/// Backs training up at the end of every epoch and, when `fit` starts again after an
/// interruption, resumes it from the backup (Keras's `BackupAndRestore`): the weights, the
/// optimizer's state and learning rate, the next epoch and the shuffling stream, so that the
/// resumed run continues as the uninterrupted one would (dropout streams are not part of it).
/// A run that ends normally deletes its backup.
public final class BackupAndRestore: Callback {
    public let backupDirectory: String
    public let deleteCheckpoint: Bool
    /// The epoch (from 0) the last `fit` resumed at, if it resumed.
    public private(set) var resumedAtEpoch: Int?

    public init(backupDirectory: String, deleteCheckpoint: Bool = true) {
        self.backupDirectory = backupDirectory
        self.deleteCheckpoint = deleteCheckpoint
    }

    var file: String { (backupDirectory as NSString).appendingPathComponent("backup.safetensors") }

    public func onTrainBegin(model: Model) throws {
        resumedAtEpoch = nil
        guard FileManager.default.fileExists(atPath: file) else { return }
        let (tensors, metadata) = try SafeTensors.read(path: file)
        guard let progress = model.fitProgress, let optimizer = model.compiled?.optimizer,
            let epoch = metadata["next_epoch"].flatMap(Int.init), epoch >= 0,
            let rate = metadata["learning_rate"].flatMap(Float.init),
            let words = metadata["generator"]?.split(separator: " ").compactMap({ UInt64($0) }), words.count == 4
        else {
            throw RecurrentError.file(path: file, problem: "not a BackupAndRestore backup (next_epoch, learning_rate, generator)")
        }
        func part(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: tensors.compactMap { key, value in
                key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), value) : nil
            })
        }
        do {
            try model.loadStateDict(part("model."))
            try optimizer.loadStateDict(part("optimizer."))
        } catch {
            throw RecurrentError.file(path: file, problem: "the backup does not fit this model: \(error)")
        }
        optimizer.learningRate = rate
        progress.nextEpoch = epoch
        progress.generator.stateWords = words
        resumedAtEpoch = epoch
    }

    public func onEpochEnd(_ epoch: Int, logs: [String: Float], model: Model) throws {
        guard model.isPrimaryProcess, let progress = model.fitProgress, let optimizer = model.compiled?.optimizer else { return }
        try FileManager.default.createDirectory(atPath: backupDirectory, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for (name, value) in model.stateDict() { tensors["model." + name] = value }
        for (name, value) in optimizer.stateDict() { tensors["optimizer." + name] = value }
        let metadata = [
            "next_epoch": String(progress.nextEpoch), "learning_rate": String(optimizer.learningRate),
            "generator": progress.generator.stateWords.map(String.init).joined(separator: " "),
        ]
        try SafeTensors.write(tensors, metadata: metadata, to: file)
    }

    public func onTrainEnd(model: Model) throws {
        guard model.isPrimaryProcess, deleteCheckpoint, FileManager.default.fileExists(atPath: file) else { return }
        try FileManager.default.removeItem(atPath: file)
        if (try? FileManager.default.contentsOfDirectory(atPath: backupDirectory))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: backupDirectory)
        }
    }
}
