/// Where `padSequences` pads or truncates: at the start (`pre`) or at the end (`post`).
public enum Padding: Sendable {
    case pre, post
}

/// Keras's `keras.utils.pad_sequences`: every sequence made exactly `maxlen` long.
///
/// Sequences longer than `maxlen` lose elements at the start (`truncating: .pre`) or the end
/// (`.post`); shorter ones get `value` added before (`padding: .pre`) or after (`.post`).
/// `maxlen: nil` means the longest sequence's length. Empty sequences become all `value`.
///
/// ```swift
/// try padSequences([[1], [2, 3], [4, 5, 6]])             // [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
/// try padSequences([[1], [2, 3], [4, 5, 6]], maxlen: 2)  // [[0, 1], [2, 3], [5, 6]]
/// ```
///
/// Throws `RecurrentError.invalidArgument` for a negative `maxlen`, and for no sequences with
/// no `maxlen` (the width is unknown), as Keras raises. `maxlen: 0` gives empty rows (Keras
/// raises for it with `truncating: "pre"`, an accident of `s[-0:]`).
public func padSequences(
    _ sequences: [[Int]], maxlen: Int? = nil, padding: Padding = .pre, truncating: Padding = .pre,
    value: Int = 0
) throws -> [[Int]] {
    let width = try paddedWidth(sequences, maxlen: maxlen)
    return sequences.map { sequence in
        let kept = sequence.count <= width
            ? sequence[...] : truncating == .pre ? sequence.suffix(width) : sequence.prefix(width)
        let fill = repeatElement(value, count: width - kept.count)
        return padding == .pre ? Array(fill) + kept : Array(kept) + fill
    }
}

/// `padSequences` as a Float32 tensor of shape `[sequences.count, maxlen]` (`maxlen` being the
/// longest length when `nil`), ready for an embedding layer. Throws as `padSequences` does, and
/// for a token or `value` that Float32 cannot hold exactly (beyond ±2²⁴).
public func padSequencesTensor(
    _ sequences: [[Int]], maxlen: Int? = nil, padding: Padding = .pre, truncating: Padding = .pre,
    value: Int = 0
) throws -> Tensor {
    let width = try paddedWidth(sequences, maxlen: maxlen)
    let rows = try padSequences(sequences, maxlen: width, padding: padding, truncating: truncating, value: value)
    var scalars: [Float] = []
    scalars.reserveCapacity(rows.count * width)
    for row in rows {
        for element in row {
            guard let exact = Float(exactly: element) else {
                throw RecurrentError.invalidArgument("padSequencesTensor: \(element) is not exact in Float32")
            }
            scalars.append(exact)
        }
    }
    return try Tensor(shape: [rows.count, width], scalars: scalars)
}

private func paddedWidth(_ sequences: [[Int]], maxlen: Int?) throws -> Int {
    if let maxlen {
        guard maxlen >= 0 else {
            throw RecurrentError.invalidArgument("padSequences: maxlen must not be negative, got \(maxlen)")
        }
        return maxlen
    }
    guard let longest = sequences.lazy.map(\.count).max() else {
        throw RecurrentError.invalidArgument("padSequences: no sequences and no maxlen, so no width")
    }
    return longest
}
