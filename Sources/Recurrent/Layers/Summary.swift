import Foundation

// How models and layers describe themselves: Keras's `summary()` table and PyTorch's `repr`.

extension Model {
    /// Prints Keras's summary table of a `Sequential` or functional model: each layer's name and
    /// type, output shape (`None` for the batch and for free axes), parameter count (and, for a
    /// functional model that is not a chain, what it is connected to), then the totals and their
    /// size. `lineLength` is the table's width; Keras's default is 88 (108 with "Connected to").
    public func summary(lineLength: Int? = nil, print write: (String) -> Void = { Swift.print($0) }) throws {
        write(try summaryText(lineLength: lineLength))
    }

    /// The text `summary()` prints.
    public func summaryText(lineLength: Int? = nil) throws -> String {
        let (name, rows, connected) = try summaryRows()
        let lineLength = lineLength ?? (connected ? 108 : 88)
        guard lineLength >= 40 else {
            throw RecurrentError.invalidArgument("summary: lineLength must be at least 40, got \(lineLength)")
        }
        // Keras's column boundaries; rich takes the borders out of the columns as measured here.
        let (positions, narrowing) = connected ? ([0.3, 0.56, 0.74, 1.0], [1, 1, 2, 1]) : ([0.45, 0.80, 1.0], [1, 2, 1])
        let bounds = positions.map { Int($0 * Double(lineLength)) }
        let widths = bounds.indices.map { i in bounds[i] - (i == 0 ? 0 : bounds[i - 1]) - narrowing[i] }
        func rule(_ left: String, _ fill: String, _ middle: String, _ right: String) -> String {
            left + widths.map { String(repeating: fill, count: $0) }.joined(separator: middle) + right
        }
        func row(_ cells: [String], border: String) -> [String] {
            let wrapped = zip(cells, widths).enumerated().map { column, cell in Self.wrap(cell.0, width: cell.1 - 2, ellipsis: column == 3) }
            let height = wrapped.map(\.count).max() ?? 1
            return (0..<height).map { line in
                let parts = wrapped.enumerated().map { column, lines -> String in
                    let text = line < lines.count ? lines[line] : ""
                    let pad = String(repeating: " ", count: widths[column] - 2 - text.count)
                    return " " + (column == 2 ? pad + text : text + pad) + " "
                }
                return border + parts.joined(separator: border) + border
            }
        }
        var lines = ["Model: \"\(name)\""]
        lines.append(rule("┏", "━", "┳", "┓"))
        lines += row(["Layer (type)", "Output Shape", "Param #", "Connected to"].prefix(widths.count).map { $0 }, border: "┃")
        lines.append(rule("┡", "━", "╇", "┩"))
        for (index, cells) in rows.enumerated() {
            lines += row(cells, border: "│")
            lines.append(index == rows.count - 1 ? rule("└", "─", "┴", "┘") : rule("├", "─", "┼", "┤"))
        }
        let total = parameterCount
        lines.append(" Total params: \(Self.grouped(total)) (\(Self.memorySize(total * 4)))")
        lines.append(" Trainable params: \(Self.grouped(total)) (\(Self.memorySize(total * 4)))")
        lines.append(" Non-trainable params: 0 (\(Self.memorySize(0)))")
        return lines.joined(separator: "\n")
    }

    /// The model's name, the table's rows, and whether they have the "Connected to" column.
    private func summaryRows() throws -> (String, [[String]], Bool) {
        if let sequential = self as? Sequential {
            let shapes = try sequential.layerOutputShapes()
            let rows = zip(sequential.layerNames, sequential.layers).enumerated().map { index, entry in
                ["\(entry.0) (\(Sequential.typeName(of: entry.1)))", Shape.keras(shapes[index]), Self.grouped(entry.1.parameterCount)]
            }
            return (sequential.name, rows, false)
        }
        guard let graph else {
            throw RecurrentError.invalidArgument(
                "summary: \(type(of: self)) is neither a Sequential nor a functional model (Model(inputs:outputs:)); print(model) lists its layers")
        }
        let callIndex = graph.callIndex
        let rows = graph.operations.map { name, operation -> [String] in
            let calls = graph.nodes.filter { $0.operation.object === operation.object }
            var cells = [
                "\(name) (\(operation.typeName))", Shape.keras([nil] + calls.last!.shape), Self.grouped(operation.module.parameterCount),
            ]
            if !graph.sequentialLike {
                let sources = calls.flatMap(\.inputs).map { source in
                    let sourceName = graph.operations.first { $0.operation.object === source.operation.object }!.name
                    return "\(sourceName)[\(callIndex[ObjectIdentifier(source)]!)][0]"
                }
                cells.append(sources.isEmpty ? "-" : sources.joined(separator: ", "))
            }
            return cells
        }
        return (graph.name, rows, !graph.sequentialLike)
    }

    /// Word-wraps as rich does: at spaces, folding words longer than the line, or with
    /// `ellipsis` cutting them short with "…" (as Keras's "Connected to" column does).
    static func wrap(_ text: String, width: Int, ellipsis: Bool = false) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            if current.isEmpty {
                current = word
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = word
            }
            if ellipsis && current.count > width {
                current = current.prefix(width - 1) + "…"
            }
            while current.count > width {
                lines.append(String(current.prefix(width)))
                current = String(current.dropFirst(width))
            }
        }
        lines.append(current)
        return lines
    }

    /// 17985 → "17,985".
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0 ? [","] : []) + [d] })
    }

    /// Keras's `readable_memory_size`: 71940 → "70.25 KB".
    static func memorySize(_ bytes: Int) -> String {
        var size = Double(bytes)
        for unit in ["B", "KB", "MB", "GB", "TB"] {
            if size / 1024 < 1 { return String(format: "%.2f %@", size, unit) }
            size /= 1024
        }
        return String(format: "%.2f PB", size)
    }
}

extension RecurrentLayer: CustomStringConvertible {
    /// PyTorch's repr for the PyTorch face (`RNN(10, 20, num_layers=3, batch_first=True)`),
    /// Flux's for the Keras face (`LSTM(5 => 64)  # 17920 parameters`).
    public var description: String {
        guard convention == .pytorch else {
            return "\(name)(\(inputSize.map(String.init) ?? "?") => \(hiddenSize))  # \(parameterCount) parameters"
        }
        var parts = ["\(inputSize ?? 0)", "\(hiddenSize)"]
        if projSize != 0 { parts.append("proj_size=\(projSize)") }
        if numLayers != 1 { parts.append("num_layers=\(numLayers)") }
        if !useBias { parts.append("bias=False") }
        if batchFirst { parts.append("batch_first=True") }
        if interLayerDropout != 0 { parts.append("dropout=\(interLayerDropout)") }
        if bidirectional { parts.append("bidirectional=True") }
        let type = if case .simpleRNN = kind { "RNN" } else { name }
        return type + "(" + parts.joined(separator: ", ") + ")"
    }
}

extension RecurrentCell: CustomStringConvertible {
    /// PyTorch's repr: `LSTMCell(10, 20)`, `RNNCell(4, 8, nonlinearity=relu)`.
    public var description: String {
        let type: String
        switch kind {
        case .simpleRNN: type = "RNNCell"
        case .lstm: type = "LSTMCell"
        case .gru: type = "GRUCell"
        }
        var parts = ["\(inputSize)", "\(hiddenSize)"]
        if biasIH == nil { parts.append("bias=False") }
        if kind == .simpleRNN(relu: true) { parts.append("nonlinearity=relu") }
        return type + "(" + parts.joined(separator: ", ") + ")"
    }
}

extension Embedding: CustomStringConvertible {
    /// PyTorch's repr: `Embedding(50, 8, padding_idx=0)`.
    public var description: String {
        "Embedding(\(inputDim), \(outputDim)" + (paddingIndex.map { ", padding_idx=\($0)" } ?? "") + ")"
    }
}

extension Dropout: CustomStringConvertible {
    /// PyTorch's repr: `Dropout(p=0.5, inplace=False)`.
    public var description: String { "Dropout(p=\(rate), inplace=False)" }
}

extension Model: CustomStringConvertible {
    /// PyTorch's repr: the model's type, then each child on its own line; arrays of modules
    /// print as a `ModuleList`.
    public var description: String {
        var lines = ["\(self is Sequential ? "Sequential" : String(describing: type(of: self)))("]
        var index = 0
        let children = children
        while index < children.count {
            let (name, module) = children[index]
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2, Int(parts[1]) != nil {
                // An array property: its entries are named "list.0", "list.1", ….
                var entries: [any Module] = []
                while index < children.count, children[index].name == "\(parts[0]).\(entries.count)" {
                    entries.append(children[index].module)
                    index += 1
                }
                lines.append("  (\(parts[0])): " + moduleListDescription(entries).replacingOccurrences(of: "\n", with: "\n  "))
                continue
            }
            lines.append("  (\(name)): " + String(describing: module).replacingOccurrences(of: "\n", with: "\n  "))
            index += 1
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }
}
