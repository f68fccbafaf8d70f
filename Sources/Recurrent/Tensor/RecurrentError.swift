/// Every error the library throws. Each case names the problem well enough to fix it
/// without a debugger: the operation, the expected and actual shapes, the file and offset.
public enum RecurrentError: Error, Equatable, CustomStringConvertible {
    /// An operand's shape does not fit the operation.
    case shapeMismatch(operation: String, expected: String, got: [Int])
    /// An argument is outside what the operation accepts.
    case invalidArgument(String)
    /// A file could not be read or written, or its content is malformed.
    case file(path: String, problem: String)
    /// A value that must be finite is NaN or infinite.
    case nonFinite(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, expected, got):
            return "\(operation): expected shape \(expected), got \(Shape.describe(got))"
        case let .invalidArgument(message):
            return message
        case let .file(path, problem):
            return "\(path): \(problem)"
        case let .nonFinite(message):
            return message
        }
    }
}

/// Helpers for shapes, which are plain `[Int]`.
public enum Shape {
    public static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    /// As Keras prints a shape, nil as None: `(None, 10, 64)`, and `(None,)` for one axis.
    public static func keras(_ shape: [Int?]) -> String {
        "(" + shape.map { $0.map(String.init) ?? "None" }.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }

    /// Number of elements of a shape (1 for a scalar's empty shape).
    public static func count(_ shape: [Int]) -> Int {
        shape.reduce(1, *)
    }
}
