import Recurrent

/// The framework a model was trained in, which fixes the weight layout and the architecture's words.
public enum Framework: String, CaseIterable, Sendable, Codable {
    case pytorch, keras
}

/// A model's architecture written on one line, module by module, as `recurrent import` takes it:
///
/// ```
/// pytorch: embedding:num=50,dim=8,padding_idx=0; lstm:input=8,hidden=16,layers=2,bidirectional,batch_first; last; linear:in=32,out=3,name=fc
/// keras:   input:10x5; lstm:units=64,return_sequences; lstm:units=32; dense:units=1
/// ```
/// Modules are separated by `;`, options by `,`; an option is `key=value` or a bare flag.
/// PyTorch modules are named as the state dict names them (`name=`; by default the kind, or the
/// index in an `nn.Sequential`); Keras weights are taken in `get_weights()` order.
public struct Architecture {
    public struct Module {
        public var kind: String
        /// 1-based, for messages.
        public var position: Int
        var options: [(key: String, value: String?)]
    }

    public var framework: Framework
    public var modules: [Module]

    public static let pytorchKinds = ["embedding", "lstm", "gru", "rnn", "linear", "last", "dropout"] + activations
    public static let kerasKinds = ["input", "embedding", "lstm", "gru", "simple_rnn", "dense", "masking", "flatten", "dropout", "activation"] + activations
    static let activations = ["relu", "tanh", "sigmoid", "softmax"]

    public init(_ text: String, framework: Framework) throws {
        self.framework = framework
        let parts = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.allSatisfy(\.isEmpty) else { throw Self.fail("is empty; name its modules, e.g. \"lstm:input=10,hidden=20\"") }
        modules = try parts.enumerated().map { index, part in
            guard !part.isEmpty else { throw Self.fail("module \(index + 1) is empty") }
            let (head, rest) = part.firstIndex(of: ":").map { (String(part[..<$0]), String(part[part.index(after: $0)...])) } ?? (part, "")
            let kind = head.trimmingCharacters(in: .whitespaces).lowercased()
            let known = framework == .pytorch ? Self.pytorchKinds : Self.kerasKinds
            guard known.contains(kind) else {
                throw Self.fail("module \(index + 1): unknown \(framework.rawValue) module \"\(kind)\"; known: \(known.joined(separator: ", "))")
            }
            let options = try rest.split(separator: ",").map { option -> (key: String, value: String?) in
                let pieces = option.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let key = pieces.first, !key.isEmpty, pieces.count == 1 || !pieces[1].isEmpty else {
                    throw Self.fail("module \(index + 1) (\(kind)): malformed option \"\(option)\"")
                }
                return (key.lowercased(), pieces.count == 2 ? pieces[1] : nil)
            }
            return Module(kind: kind, position: index + 1, options: options)
        }
    }

    static func fail(_ problem: String) -> RecurrentError { .invalidArgument("--arch: \(problem)") }
}

/// A module's options, consumed one by one so that a misspelt one is an error, not ignored.
struct ModuleOptions {
    let module: Architecture.Module
    private var remaining: [(key: String, value: String?)]

    init(_ module: Architecture.Module) {
        self.module = module
        remaining = module.options
    }

    func fail(_ problem: String) -> RecurrentError {
        Architecture.fail("module \(module.position) (\(module.kind)): \(problem)")
    }

    private mutating func take(_ names: [String]) throws -> (key: String, value: String?)? {
        let found = remaining.filter { names.contains($0.key) }
        guard found.count <= 1 else { throw fail("\(names[0]) given \(found.count) times") }
        remaining.removeAll { names.contains($0.key) }
        return found.first
    }

    mutating func int(_ names: String..., default fallback: Int? = nil, minimum: Int = 1) throws -> Int {
        guard let option = try take(names) else {
            guard let fallback else { throw fail("needs \(names[0])=N") }
            return fallback
        }
        guard let text = option.value, let value = Int(text) else {
            throw fail("\(option.key)=\(option.value ?? "") is not a whole number")
        }
        guard value >= minimum else { throw fail("\(option.key)=\(value) must be at least \(minimum)") }
        return value
    }

    mutating func optionalInt(_ names: String...) throws -> Int? {
        guard let option = try take(names) else { return nil }
        guard let text = option.value, let value = Int(text) else {
            throw fail("\(option.key)=\(option.value ?? "") is not a whole number")
        }
        return value
    }

    mutating func float(_ names: String..., default fallback: Float) throws -> Float {
        guard let option = try take(names) else { return fallback }
        guard let text = option.value, let value = Float(text), value.isFinite else {
            throw fail("\(option.key)=\(option.value ?? "") is not a number")
        }
        return value
    }

    /// A bare flag is true; `key=true|false` (or 1/0) says it explicitly.
    mutating func bool(_ names: String..., default fallback: Bool = false) throws -> Bool {
        guard let option = try take(names) else { return fallback }
        switch option.value?.lowercased() {
        case nil, "true", "1": return true
        case "false", "0": return false
        default: throw fail("\(option.key)=\(option.value!) is not true or false")
        }
    }

    mutating func string(_ names: String...) throws -> String? {
        guard let option = try take(names) else { return nil }
        guard let value = option.value else { throw fail("\(option.key) needs a value (\(option.key)=...)") }
        return value
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ names: String..., default fallback: T) throws -> T where T.RawValue == String {
        guard let option = try take(names) else { return fallback }
        guard let value = option.value.flatMap({ T(rawValue: $0.lowercased()) }) else {
            throw fail("\(option.key)=\(option.value ?? "") is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// The bare flags left, for modules whose options are positional (`input:10x5`, `activation:relu`).
    mutating func positional() -> [String] {
        let flags = remaining.filter { $0.value == nil }.map(\.key)
        remaining.removeAll { $0.value == nil }
        return flags
    }

    func finish() throws {
        if let extra = remaining.first { throw fail("unknown option \"\(extra.key)\"") }
    }
}
