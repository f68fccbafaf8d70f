/// Checks on JSON text before it is decoded: a key that appears twice in one object (the decoders
/// would keep one silently) and nesting deeper than a file of this library ever needs (deep
/// nesting costs the decoders stack). Strings are skipped whole, escapes included.
public enum JSONShape {
    public static let maxDepth = 64

    /// What is wrong with the shape of `text`, or nil. Malformed JSON is left to the decoder.
    public static func problem(in text: String) -> String? {
        var stack: [(isObject: Bool, keys: Set<String>, expectingKey: Bool)] = []
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return scalars.next()
        }
        while let c = next() {
            switch c {
            case "{", "[":
                stack.append((c == "{", [], c == "{"))
                if stack.count > maxDepth { return "JSON nested more than \(maxDepth) levels deep" }
            case "}", "]":
                _ = stack.popLast()
            case ",":
                if let top = stack.last, top.isObject { stack[stack.count - 1].expectingKey = true }
            case "\"":
                var string = ""
                while let s = next(), s != "\"" {
                    string.unicodeScalars.append(s)
                    if s == "\\", let escaped = next() { string.unicodeScalars.append(escaped) }
                }
                if let top = stack.last, top.isObject, top.expectingKey {
                    if top.keys.contains(string) { return "the key \"\(string)\" appears twice in one object" }
                    stack[stack.count - 1].keys.insert(string)
                    stack[stack.count - 1].expectingKey = false
                }
            default:
                continue
            }
        }
        return nil
    }
}
