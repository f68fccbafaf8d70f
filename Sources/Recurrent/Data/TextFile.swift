import Foundation

/// A UTF-8 text file read whole. Errors name the file: unreadable (and why), invalid UTF-8 (at
/// the line and column of the first bad byte), or empty.
public func readTextFile(_ path: String) throws -> String {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw RecurrentError.file(path: path, problem: "cannot be read (\(RecurrentError.reason(error)))")
    }
    return try readTextFile(data: data, path: path)
}

/// The bytes of a text file as `readTextFile` takes them (UTF-8, not empty); `path` names it in errors.
public func readTextFile(data: Data, path: String) throws -> String {
    let text = try decodeUTF8(data, path: path)
    guard !text.isEmpty else { throw RecurrentError.file(path: path, problem: "the file is empty") }
    return text
}

/// `data` as UTF-8 text, or an error at the line and column (from 1, in bytes) of the first bad byte.
func decodeUTF8(_ data: Data, path: String) throws -> String {
    if let text = String(validating: data, as: UTF8.self) { return text }
    let bytes = [UInt8](data)
    var line = 1, lineStart = 0, i = 0
    while i < bytes.count {
        let b = bytes[i]
        let length = b < 0x80 ? 1 : b >> 5 == 0b110 ? 2 : b >> 4 == 0b1110 ? 3 : b >> 3 == 0b11110 ? 4 : 0
        let end = i + length
        if length == 0 || end > bytes.count || String(validating: bytes[i..<end], as: UTF8.self) == nil { break }
        if b == 0x0A { line += 1; lineStart = i + 1 }
        i = end
    }
    throw RecurrentError.file(path: path, problem: "line \(line), column \(i - lineStart + 1): invalid UTF-8")
}

extension RecurrentError {
    /// A short reason for a failed file operation ("no such file", "permission denied").
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }
}
