import ArgumentParser
import Foundation
import Recurrent
import RecurrentTasks

extension TaskKind: ExpressibleByArgument {}
extension NetworkSpec.Cell: ExpressibleByArgument {}

/// Runs a command body, turning any error into one line on standard error and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

func printFlushed(_ line: String) {
    print(line)
    fflush(nil)
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a sequence model on a CSV or text file and write a model directory.",
        discussion: """
            Tasks: forecast (CSV time series), classify-sequences (long-format CSV), classify-text (CSV with text and \
            label columns), language-model (plain text, characters), tag (word/TAG sentences, one a line).

            Example: recurrent train classify-text --data data/amazon_fine_food_reviews.csv --out reviews-model
            """)

    @Argument(help: "The task: \(TaskKind.allCases.map(\.rawValue).joined(separator: ", ")).") var task: TaskKind
    @Option(help: "The data file.") var data: String
    @Option(help: "The model directory to write.") var out: String

    @Option(help: "Column whose values (train/val/test) assign rows to parts (default: 'split' when present).") var splitColumn: String?
    @Option(help: "Fraction of the training part held out for validation.") var valSplit: Float?
    @Option(help: "Fraction held out for testing when there is no split column (the last part).") var testSplit: Float?
    @Option(help: "forecast: the series' column (default: the last numeric column).") var column: String?
    @Option(help: "forecast: past values the model sees.") var window: Int?
    @Option(help: "forecast: future values predicted at once.") var horizon: Int?
    @Option(help: "classify-sequences: the column identifying each sequence.") var idColumn: String?
    @Option(help: "classify-sequences: the column ordering the steps.") var stepColumn: String?
    @Option(help: "classify-sequences / classify-text: the label column.") var labelColumn: String?
    @Option(help: "classify-sequences: feature columns, comma-separated (default: all other numeric columns).") var featureColumns: String?
    @Option(help: "classify-text: the text column.") var textColumn: String?
    @Option(help: "classify-text: words kept by the tokenizer.") var vocabSize: Int?
    @Option(help: "classify-text: words kept per text (default: enough for 95 % of the training texts).") var maxLength: Int?
    @Option(help: "language-model: steps per chunk (truncated backpropagation through time).") var bptt: Int?
    @Option(help: "The recurrent cell: lstm, gru or rnn.") var cell: NetworkSpec.Cell?
    @Option(help: "Hidden units per layer and direction.") var units: Int?
    @Option(help: "Stacked recurrent layers.") var layers: Int?
    @Flag(inversion: .prefixedNo, help: "Read sequences in both directions.") var bidirectional: Bool?
    @Option(help: "Dropout on the inputs, between layers and before the output.") var dropout: Float?
    @Option(help: "Dropout on the recurrent state.") var recurrentDropout: Float?
    @Option(help: "Passes over the training data.") var epochs: Int?
    @Option(help: "Examples (language-model: lanes) per batch.") var batchSize: Int?
    @Option(help: "Adam's learning rate.") var lr: Float?
    @Option(help: "Rescale gradients to at most this global norm.") var clipNorm: Float?
    @Option(help: "Random seed (weights, shuffling, dropout).") var seed: UInt64?
    @Option(help: "Stop after this many epochs without a better validation loss; the best weights are kept.") var patience: Int?
    @Option(help: "Stop after the epoch that crosses this many seconds.") var timeBudget: Double?
    @Option(help: "Also checkpoint every N steps within an epoch (a killed run resumes from there with --resume).") var checkpointEvery: Int?
    @Option(help: "Use only the first N training examples (rows, sequences, sentences, characters).") var limit: Int?
    @Option(help: "Start from the weights of another model directory of the same architecture.") var initFrom: String?
    @Option(help: "Continue the run a model directory (or its .partial) checkpointed: weights, optimizer, epoch, RNG.") var resume: String?
    @Option(help: "Data-parallel training: mpi (every process mpirun started trains on its rows of each global batch of --batch-size per process), none, or auto: mpi when launched by mpirun.")
    var distributed = Distribution.auto
    @Flag(help: "Print the final metrics as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let world = try communicator(distributed)
            var o = TaskOptions(task: task, dataPath: data)
            (o.splitColumn, o.valSplit, o.testSplit, o.column, o.window, o.horizon) = (splitColumn, valSplit, testSplit, column, window, horizon)
            (o.idColumn, o.stepColumn, o.labelColumn, o.textColumn) = (idColumn, stepColumn, labelColumn, textColumn)
            o.featureColumns = featureColumns?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            (o.vocabSize, o.maxLength, o.bptt) = (vocabSize, maxLength, bptt)
            (o.cell, o.units, o.layers, o.bidirectional, o.dropout, o.recurrentDropout) = (cell, units, layers, bidirectional, dropout, recurrentDropout)
            (o.epochs, o.batchSize, o.learningRate, o.clipNorm, o.seed, o.patience, o.timeBudget, o.limit) =
                (epochs, batchSize, lr, clipNorm, seed, patience, timeBudget, limit)
            o.checkpointEvery = checkpointEvery
            let run = try Tasks.train(o, out: out, initFrom: initFrom, resume: resume, log: printFlushed, distributed: world)
            guard run.rank == 0 else { return }
            if json {
                print(run.report?.metrics.rendered() ?? "{}")
                return
            }
            print("model: \(run.directory) (\(run.parameterCount) parameters, \(run.outcome.history.count) epochs, best \(run.outcome.bestEpoch.map(String.init) ?? "last"), \(String(format: "%.1f", run.outcome.seconds)) s)")
            if let report = run.report { print("held-out " + report.text.replacingOccurrences(of: "\n", with: "\nheld-out ")) }
        }
    }
}

enum Distribution: String, ExpressibleByArgument, CaseIterable {
    case auto, mpi, none
}

/// The processes to train with: MPI's world when asked for or launched by mpirun (in a build
/// with the MPI trait), else none.
func communicator(_ choice: Distribution) throws -> Communicator? {
    let launched = mpiLauncherWorldSize
    switch choice {
    case .none: return nil
    case .auto where launched == nil: return nil
    case .auto, .mpi:
        #if MPI
        return try MPICommunicator.world()
        #else
        throw RecurrentError.invalidArgument(
            (launched.map { "started by mpirun as one of \($0) processes, but " } ?? "--distributed mpi: ")
                + "this build has no MPI; build with `swift build -c release --traits MPI` (needs libopenmpi-dev)")
        #endif
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The task's metrics and baselines on a data file (its held-out part, or --all of it).",
        discussion: "Example: recurrent evaluate --model reviews-model --data data/amazon_fine_food_reviews.csv --json")

    @Option(help: "The model directory.") var model: String
    @Option(help: "The data file.") var data: String
    @Flag(help: "Evaluate every row, not only the held-out part the model was tested on.") var all = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let report = try Tasks.evaluate(model: model, data: data, all: all)
            print(json ? report.metrics.rendered() : report.text)
        }
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predictions as CSV for the rows, sequences, sentences or lines of a file (or - for standard input).",
        discussion: """
            A model brought in by `recurrent import` takes a .npy tensor [batch, ...] and gives its output tensor: \
            as .npy when --output ends in .npy, else as CSV (a line per example).

            Examples: recurrent predict --model tagger --input sentences.txt
                      recurrent predict --model imported --input x.npy --output y.npy
            """)

    @Option(help: "The model directory.") var model: String
    @Option(help: "The input file, or - for standard input.") var input: String = "-"
    @Option(help: "Write the predictions to this file (.csv, or .npy for an imported model) instead of standard output.") var output: String?

    func run() throws {
        try reportingErrors {
            var path = input, temporary: String?
            if input == "-" {
                temporary = NSTemporaryDirectory() + "recurrent-stdin-\(ProcessInfo.processInfo.processIdentifier)"
                try FileHandle.standardInput.readDataToEndOfFile().write(to: URL(fileURLWithPath: temporary!))
                path = temporary!
            }
            defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
            let format: PredictionFormat = output?.lowercased().hasSuffix(".npy") == true ? .npy : .csv
            let result = try Tasks.predict(model: model, input: path, format: format)
            guard let output else {
                FileHandle.standardOutput.write(result)
                return
            }
            do {
                try result.write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw RecurrentError.file(path: output, problem: "cannot be written (\(RecurrentError.reason(error)))")
            }
        }
    }
}

extension Framework: ExpressibleByArgument {}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring in a model trained in PyTorch or Keras: its architecture and weights become a model directory.",
        discussion: """
            --arch lists the modules in order, separated by ';', each KIND:OPTION,OPTION (key=value or a flag).
              PyTorch (--pytorch, a safetensors state dict): embedding:num=N,dim=D[,padding_idx=I]; \
            lstm|gru|rnn:input=I,hidden=H[,layers=L,bidirectional,batch_first,bias=false,proj=P,nonlinearity=relu]; \
            last (output[:, -1] of the recurrent output); linear:in=I,out=O[,bias=false]; dropout; relu; tanh; sigmoid; softmax. \
            Each module's tensors are found under name=PREFIX, else the module's kind (embedding, lstm, linear, ...), \
            the index of an nn.Sequential, or no prefix for a bare module.
              Keras (--keras, np.savez(path, *model.get_weights())): input:STEPSxFEATURES (? for any number of steps) first; \
            embedding:input_dim=N,output_dim=D[,mask_zero]; lstm|gru|simple_rnn:units=U[,return_sequences,go_backwards,\
            bidirectional,merge_mode=concat|sum|mul|ave,activation=A,recurrent_activation=A,reset_after=false,use_bias=false]; \
            dense:units=U[,activation=A] (per step on sequences, as TimeDistributed); masking[:mask_value=V]; flatten; dropout; activation:A.

            Example: recurrent import --pytorch model.safetensors --out imported \
            --arch "embedding:num=50,dim=8; lstm:input=8,hidden=16,layers=2,bidirectional,batch_first; last; linear:in=32,out=3,name=fc"
            """)

    @Option(help: "A PyTorch state dict saved with safetensors.torch.save_file.") var pytorch: String?
    @Option(help: "Keras weights saved with np.savez(path, *model.get_weights()).") var keras: String?
    @Option(help: "The architecture, module by module (see above).") var arch: String
    @Option(help: "The model directory to write.") var out: String

    func run() throws {
        try reportingErrors {
            let (framework, weights): (Framework, String)
            switch (pytorch, keras) {
            case let (path?, nil): (framework, weights) = (.pytorch, path)
            case let (nil, path?): (framework, weights) = (.keras, path)
            default: throw RecurrentError.invalidArgument("give one weights file: --pytorch FILE.safetensors or --keras FILE.npz")
            }
            let run = try Tasks.importModel(framework: framework, weights: weights, architecture: arch, out: out)
            print(run.summary)
            print("model: \(run.directory) (\(run.parameterCount) parameters, from \(framework.rawValue))")
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Text sampled from a language model.",
        discussion: "Example: recurrent generate --model shakespeare --prime \"ROMEO:\" --length 400 --temperature 0.8")

    @Option(help: "The model directory (a language-model).") var model: String
    @Option(help: "The text to start from.") var prime: String = "\n"
    @Option(help: "Characters to generate.") var length = 300
    @Option(help: "Below 1: safer choices; above 1: more surprising ones.") var temperature: Double = 0.8
    @Option(help: "Sample among the K most likely characters only.") var topK: Int?
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func run() throws {
        try reportingErrors {
            print(prime + (try Tasks.generate(model: model, prime: prime, length: length, temperature: temperature, topK: topK, seed: seed)))
        }
    }
}

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The network of a model directory, with parameter counts, and the preprocessing it carries.",
        discussion: "Example: recurrent summary --model reviews-model")

    @Option(help: "The model directory.") var model: String

    func run() throws {
        try reportingErrors { print(try Tasks.summary(model: model)) }
    }
}
