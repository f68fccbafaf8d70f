import Foundation

/// How much `fit`, `evaluate` and `predict` print (Keras's `verbose`; integer literals work).
public enum Verbosity: Int, Sendable, ExpressibleByIntegerLiteral {
    case silent = 0
    /// A live progress bar with ETA and running metrics.
    case progressBar = 1
    /// One line per epoch.
    case epochLines = 2
    /// The progress bar on a terminal, one line per epoch otherwise (logs, pipes, CI).
    case auto = -1

    public init(integerLiteral value: Int) { self = Verbosity(rawValue: value) ?? .auto }

    var resolved: Verbosity {
        guard self == .auto else { return self }
        return isatty(STDOUT_FILENO) != 0 ? .progressBar : .epochLines
    }
}

/// Keras's progress display: `12/32 ━━━━━━━╺──────────── 3s 40ms/step - loss: 0.6931`.
final class ProgressBar {
    let steps: Int
    let verbosity: Verbosity
    let write: (String) -> Void
    private var start = Date()
    private var lastDraw = Date.distantPast

    init(steps: Int, verbosity: Verbosity, write: @escaping (String) -> Void) {
        self.steps = steps
        self.verbosity = verbosity.resolved
        self.write = write
    }

    func begin(epoch: Int, of epochs: Int) {
        start = Date()
        lastDraw = .distantPast
        if verbosity != .silent { write("Epoch \(epoch + 1)/\(epochs)\n") }
    }

    /// After `step` (from 1) of `steps`, with the running logs.
    func update(step: Int, logs: [(String, Float)]) {
        guard verbosity == .progressBar, step < steps, Date().timeIntervalSince(lastDraw) > 0.05 else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(start)
        let perStep = elapsed / Double(step)
        let eta = perStep * Double(steps - step)
        write("\r" + Self.line(step: step, steps: steps, time: Self.duration(eta), perStep: Self.perStep(perStep),
                               logs: logs, width: Self.terminalWidth()) + "\u{1B}[K")
    }

    /// The epoch's final line, with validation entries.
    func end(logs: [(String, Float)]) {
        let elapsed = Date().timeIntervalSince(start)
        let perStep = Self.perStep(elapsed / Double(max(steps, 1)))
        switch verbosity {
        case .progressBar:
            write("\r" + Self.line(step: steps, steps: steps, time: Self.duration(elapsed), perStep: perStep,
                                   logs: logs, width: Self.terminalWidth()) + "\u{1B}[K\n")
        case .epochLines, .auto:
            write(Self.counter(steps, steps) + " - " + Self.duration(elapsed) + " - " + perStep + Self.format(logs) + "\n")
        case .silent:
            break
        }
    }

    /// The redrawn line, fitted to `width` columns so that it never wraps: the bar shrinks
    /// (down to 5 cells) first, then the metrics are cut, marked with "…".
    static func line(step: Int, steps: Int, time: String, perStep: String, logs: [(String, Float)], width: Int) -> String {
        let fixed = counter(step, steps) + " ", tail = " " + time + " " + perStep, metrics = format(logs)
        let room = width - 1  // the last column stays free: writing it makes some terminals wrap
        let barWidth = min(20, max(5, room - fixed.count - tail.count - metrics.count))
        let line = fixed + bar(step, steps, width: barWidth) + tail + metrics
        guard line.count > room else { return line }
        return String(line.prefix(max(room - 1, 0))) + "…"
    }

    /// Columns of the terminal standard output is on, read at every redraw (so a resized pane is
    /// followed); `COLUMNS`, else 80, when it is not a terminal.
    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
    }

    static func counter(_ step: Int, _ steps: Int) -> String {
        let width = String(steps).count
        return String(repeating: " ", count: width - String(step).count) + "\(step)/\(steps)"
    }

    static func bar(_ step: Int, _ steps: Int, width: Int = 20) -> String {
        let done = steps == 0 ? width : min(width, width * step / steps)
        if done == width { return String(repeating: "━", count: width) }
        return String(repeating: "━", count: done) + "╺" + String(repeating: "─", count: width - done - 1)
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 3600 { return "\(whole)s" }
        return String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
    }

    static func perStep(_ seconds: Double) -> String {
        if seconds >= 1 { return "\(Int(seconds.rounded()))s/step" }
        if seconds >= 1e-3 { return "\(Int((seconds * 1e3).rounded()))ms/step" }
        return "\(Int((seconds * 1e6).rounded()))us/step"
    }

    /// ` - loss: 0.6931 - accuracy: 0.5000`, Keras's number format.
    static func format(_ logs: [(String, Float)]) -> String {
        logs.map { name, value in
            " - \(name): " + (abs(value) > 1e-3 || value == 0 ? String(format: "%.4f", value) : String(format: "%.4e", value))
        }.joined()
    }
}
