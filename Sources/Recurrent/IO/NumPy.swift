import Foundation

/// Reading and writing NumPy's `.npy` arrays and `.npz` archives, in pure Swift.
///
/// **.npy** (format versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a version, a header
/// length (2 bytes in 1.0, 4 bytes after), a header that is a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then the raw elements.
/// Reading accepts float16/32/64, signed and unsigned integers of 1–8 bytes and bool, in either
/// byte order and in C or Fortran order, and converts to a row-major Float32 `Tensor` (integers
/// above 2^24 and float64 round, as `astype(np.float32)` does). Object arrays (pickles) are
/// refused, as are structured, complex, string and datetime arrays.
///
/// **.npz**: a ZIP archive of `.npy` members, as written by `np.savez` (stored) and
/// `np.savez_compressed` (deflate), including ZIP64 records. Each member's CRC-32 is verified.
///
/// Writing produces little-endian float32 (`<f4`), C order, byte-for-byte the header `np.save`
/// writes; archives are stored (uncompressed) and written atomically.
///
/// Every problem is thrown as `RecurrentError.file(path:problem:)` naming the file, the archive
/// member and what is wrong; malformed input never crashes.
public enum NumPy {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    // MARK: - .npy reading

    /// The array in a `.npy` file, as Float32.
    public static func readNPY(path: String) throws -> Tensor {
        let data = try readFile(path)
        return try data.withUnsafeBytes { try parseNPY($0, path: path, member: nil) }
    }

    /// The array in the bytes of a `.npy` file, as Float32. `name` stands for the file in errors.
    public static func readNPY(data: Data, name: String = "<npy data>") throws -> Tensor {
        try data.withUnsafeBytes { try parseNPY($0, path: name, member: nil) }
    }

    /// An element type of the format, as read from the `descr` of the header.
    struct DType {
        var type: SafeTensors.DType
        var bigEndian: Bool
        var descr: String
    }

    /// Where an array's data starts and how many bytes it takes, from the preamble and header
    /// alone (the first bytes of the file are enough).
    static func npyLayout(_ bytes: UnsafeRawBufferPointer, fail: (String) -> RecurrentError) throws
        -> (header: Header, dataStart: Int, dataBytes: Int, elements: Int) {
        guard bytes.count >= 10 else {
            throw fail("truncated: \(bytes.count) bytes, too short for the .npy preamble (magic, version, header length)")
        }
        guard bytes.prefix(6).elementsEqual(magic) else {
            let shown = bytes.prefix(6).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw fail("bad magic: not a .npy array (starts with \(shown), expected 93 4e 55 4d 50 59 = \\x93NUMPY)")
        }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let headerStart: Int, headerLength: Int
        switch (major, minor) {
        case (1, 0):
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case (2, 0), (3, 0):
            guard bytes.count >= 12 else { throw fail("truncated: \(bytes.count) bytes, too short for a version \(major).0 preamble") }
            headerStart = 12
            headerLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        default:
            throw fail("unsupported .npy format version \(major).\(minor) (readable: 1.0, 2.0, 3.0)")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw fail("truncated: the header of \(headerLength) bytes at offset \(headerStart) runs past the end (\(bytes.count) bytes)")
        }
        let dataStart = headerStart + headerLength
        let headerBytes = Array(bytes[headerStart..<dataStart])
        let header: Header
        do {
            header = try Header(parsing: headerBytes, utf8: major == 3)
        } catch let error as HeaderProblem {
            throw fail("header (bytes \(headerStart)..<\(dataStart)): \(error.message)")
        }

        // The product of the non-zero extents must fit an Int, so that no stride or partial
        // product overflows later, in whatever order the axes are taken (an empty array of shape
        // (0, 2^40, 2^40) is refused too).
        var bound = 1
        for extent in header.shape {
            let (product, overflow) = bound.multipliedReportingOverflow(by: max(extent, 1))
            guard !overflow else { throw fail("shape \(Shape.describe(header.shape)) has too many elements") }
            bound = product
        }
        let elements = header.shape.contains(0) ? 0 : bound
        let size = header.dtype.type.size
        let (needed, overflow) = elements.multipliedReportingOverflow(by: size)
        guard !overflow else { throw fail("shape \(Shape.describe(header.shape)) has too many elements") }
        return (header, dataStart, needed, elements)
    }

    static func parseNPY(_ bytes: UnsafeRawBufferPointer, path: String, member: String?) throws -> Tensor {
        let context = member.map { "member '\($0)': " } ?? ""
        func fail(_ problem: String) -> RecurrentError { .file(path: path, problem: context + problem) }
        let (header, dataStart, needed, elements) = try npyLayout(bytes, fail: fail)
        let size = header.dtype.type.size
        let available = bytes.count - dataStart
        guard available >= needed else {
            throw fail("truncated: shape \(Shape.describe(header.shape)) of '\(header.dtype.descr)' needs \(elements) × \(size) = "
                + "\(needed) bytes of data from offset \(dataStart), but only \(available) follow")
        }
        guard available == needed else {
            throw fail("\(available - needed) trailing bytes after the \(needed) bytes of array data (from offset \(dataStart + needed))")
        }

        let source = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<(dataStart + needed)])
        let storedShape = header.fortranOrder ? Array(header.shape.reversed()) : header.shape
        var tensor: Tensor
        if header.dtype.bigEndian && size > 1 {
            var swapped = [UInt8](source)
            for start in stride(from: 0, to: swapped.count, by: size) {
                swapped[start..<(start + size)].reverse()
            }
            tensor = swapped.withUnsafeBytes { SafeTensors.convert($0, dtype: header.dtype.type, shape: storedShape) }
        } else {
            tensor = SafeTensors.convert(source, dtype: header.dtype.type, shape: storedShape)
        }
        if header.fortranOrder && header.shape.count > 1 {
            tensor = fortranToRowMajor(tensor, shape: header.shape)
        }
        return tensor
    }

    /// Column-major elements (held in a tensor of the reversed shape) to row-major `shape`:
    /// the axes reversed.
    static func fortranToRowMajor(_ source: Tensor, shape: [Int]) -> Tensor {
        // An ordering of all the source's axes, so permuting cannot fail.
        try! source.permuted(Array((0..<shape.count).reversed()))
    }

    // MARK: - The header dict

    struct HeaderProblem: Error {
        var message: String
    }

    /// The validated header: `{'descr': ..., 'fortran_order': ..., 'shape': (...), }`.
    struct Header {
        var dtype: DType
        var fortranOrder: Bool
        var shape: [Int]

        init(parsing bytes: [UInt8], utf8: Bool) throws {
            func problem(_ message: String) -> HeaderProblem { HeaderProblem(message: message) }
            let text: String
            if utf8 {
                guard let decoded = String(validating: bytes, as: UTF8.self) else { throw problem("not valid UTF-8") }
                text = decoded
            } else {  // latin-1 in versions 1.0 and 2.0
                text = String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
            }
            var parser = LiteralParser(text: text)
            let value: Literal
            do {
                value = try parser.parseAll()
            } catch let error as HeaderProblem {
                let preview = text.prefix(80)
                throw problem("\(error.message); the header reads \"\(preview)\(text.count > 80 ? "…" : "")\"")
            }
            guard case let .dictionary(pairs) = value else {
                throw problem("is \(value.kind), not a dict with 'descr', 'fortran_order' and 'shape'")
            }
            var entries: [String: Literal] = [:]
            for (key, entry) in pairs {
                guard case let .string(name) = key else { throw problem("has a key that is \(key.kind), not a string") }
                entries[name] = entry
            }
            let keys = entries.keys.sorted()
            guard keys == ["descr", "fortran_order", "shape"], let descrValue = entries["descr"],
                  let fortranValue = entries["fortran_order"], let shapeValue = entries["shape"]
            else {
                throw problem("has keys \(keys) where exactly 'descr', 'fortran_order' and 'shape' belong")
            }
            switch descrValue {
            case let .string(descr):
                dtype = try Self.dtype(descr)
            case .list, .tuple:
                throw problem("'descr' is a list of fields: structured arrays (record dtypes) are not supported")
            case let other:
                throw problem("'descr' is \(other.kind), not a dtype string")
            }
            guard case let .boolean(fortran) = fortranValue else {
                throw problem("'fortran_order' is \(fortranValue.kind), not True or False")
            }
            fortranOrder = fortran
            let extents: [Literal]
            switch shapeValue {
            case let .tuple(items), let .list(items): extents = items
            case let other: throw problem("'shape' is \(other.kind), not a tuple of integers")
            }
            shape = []
            for extent in extents {
                guard case let .integer(n) = extent, n >= 0 else {
                    throw problem("'shape' has an entry that is not a non-negative integer (\(extent.kind))")
                }
                shape.append(n)
            }
        }

        static let readable = "<f2 <f4 <f8 <i1 <i2 <i4 <i8 <u1 <u2 <u4 <u8 |b1 (and their '>' big-endian forms)"

        static func dtype(_ descr: String) throws -> DType {
            var code = Substring(descr)
            var order: Character = "="
            if let first = code.first, "<>|=".contains(first) {
                order = first
                code = code.dropFirst()
            }
            let type: SafeTensors.DType
            switch code {
            case "f2", "e": type = .f16
            case "f4", "f": type = .f32
            case "f8", "d": type = .f64
            case "i1", "b": type = .i8
            case "i2", "h": type = .i16
            case "i4", "i": type = .i32
            case "i8", "q", "l": type = .i64
            case "u1", "B": type = .u8
            case "u2", "H": type = .u16
            case "u4", "I": type = .u32
            case "u8", "Q", "L": type = .u64
            case "b1", "?": type = .bool
            default:
                if code.first == "O" {
                    throw HeaderProblem(message: "dtype '\(descr)' is an object array (pickled Python objects), which is refused: "
                        + "it cannot be read without executing a pickle; save a numeric array instead")
                }
                let kinds: [Character: String] = [
                    "c": "complex", "U": "unicode string", "S": "byte string", "a": "byte string", "V": "void/raw",
                    "M": "datetime", "m": "timedelta", "f": "floating point of this size", "i": "integer of this size",
                    "u": "unsigned integer of this size",
                ]
                let kind = code.first.flatMap { kinds[$0] }.map { " (\($0))" } ?? ""
                throw HeaderProblem(message: "unsupported dtype '\(descr)'\(kind); readable: \(readable)")
            }
            return DType(type: type, bigEndian: order == ">", descr: descr)
        }
    }

    /// A Python literal as found in .npy headers.
    indirect enum Literal {
        case string(String), integer(Int), boolean(Bool), none
        case tuple([Literal]), list([Literal]), dictionary([(Literal, Literal)])

        var kind: String {
            switch self {
            case let .string(s): return "the string '\(s)'"
            case let .integer(n): return "the integer \(n)"
            case let .boolean(b): return b ? "True" : "False"
            case .none: return "None"
            case .tuple: return "a tuple"
            case .list: return "a list"
            case .dictionary: return "a dict"
            }
        }
    }

    /// Recursive-descent parser for the subset of Python literals that .npy headers use:
    /// strings, integers (an old `L` suffix allowed), True/False/None, tuples, lists and dicts.
    struct LiteralParser {
        let characters: [Character]
        var index = 0
        var depth = 0

        init(text: String) { characters = Array(text) }

        mutating func parseAll() throws -> Literal {
            let value = try parseValue()
            skipSpace()
            guard index == characters.count else { throw error("unexpected '\(characters[index])' after the value") }
            return value
        }

        func error(_ message: String) -> HeaderProblem {
            HeaderProblem(message: "cannot parse the header dict at character \(index): \(message)")
        }

        mutating func skipSpace() {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
        }

        mutating func parseValue() throws -> Literal {
            skipSpace()
            guard index < characters.count else { throw error("ends where a value belongs") }
            let c = characters[index]
            switch c {
            case "'", "\"": return .string(try parseString())
            case "(": return try parseSequence(close: ")")
            case "[": return try parseSequence(close: "]")
            case "{": return try parseDictionary()
            case "-", "+", "0"..."9": return .integer(try parseInteger())
            default:
                var word = ""
                while index < characters.count, characters[index].isLetter || characters[index] == "_" {
                    word.append(characters[index])
                    index += 1
                }
                switch word {
                case "True": return .boolean(true)
                case "False": return .boolean(false)
                case "None": return .none
                default: throw error(word.isEmpty ? "unexpected '\(c)'" : "unknown name '\(word)'")
                }
            }
        }

        mutating func parseString() throws -> String {
            let quote = characters[index]
            index += 1
            var result = ""
            while index < characters.count {
                let c = characters[index]
                index += 1
                if c == quote { return result }
                if c == "\\" {
                    guard index < characters.count else { break }
                    result.append(characters[index])
                    index += 1
                } else if c == "\n" {
                    break
                } else {
                    result.append(c)
                }
            }
            throw error("unterminated string")
        }

        mutating func parseInteger() throws -> Int {
            var digits = ""
            if characters[index] == "-" || characters[index] == "+" {
                digits.append(characters[index])
                index += 1
            }
            while index < characters.count, let _ = characters[index].wholeNumberValue, characters[index].isASCII {
                digits.append(characters[index])
                index += 1
            }
            if index < characters.count, characters[index] == "L" { index += 1 }  // Python 2 long
            guard let value = Int(digits) else { throw error("'\(digits)' is not an integer that fits 64 bits") }
            return value
        }

        mutating func nested<T>(_ body: (inout LiteralParser) throws -> T) throws -> T {
            depth += 1
            defer { depth -= 1 }
            guard depth <= 32 else { throw error("nested more than 32 deep") }
            return try body(&self)
        }

        mutating func parseSequence(close: Character) throws -> Literal {
            try nested { parser in
                parser.index += 1
                var items: [Literal] = []
                var sawComma = false
                while true {
                    parser.skipSpace()
                    guard parser.index < parser.characters.count else { throw parser.error("missing '\(close)'") }
                    if parser.characters[parser.index] == close {
                        parser.index += 1
                        break
                    }
                    items.append(try parser.parseValue())
                    parser.skipSpace()
                    guard parser.index < parser.characters.count else { throw parser.error("missing '\(close)'") }
                    if parser.characters[parser.index] == "," {
                        sawComma = true
                        parser.index += 1
                    } else if parser.characters[parser.index] != close {
                        throw parser.error("expected ',' or '\(close)', found '\(parser.characters[parser.index])'")
                    }
                }
                if close == "]" { return .list(items) }
                // `(x)` without a comma is just x in Python; `(x,)` and `()` are tuples.
                return items.count == 1 && !sawComma ? items[0] : .tuple(items)
            }
        }

        mutating func parseDictionary() throws -> Literal {
            try nested { parser in
                parser.index += 1
                var pairs: [(Literal, Literal)] = []
                while true {
                    parser.skipSpace()
                    guard parser.index < parser.characters.count else { throw parser.error("missing '}'") }
                    if parser.characters[parser.index] == "}" {
                        parser.index += 1
                        return .dictionary(pairs)
                    }
                    let key = try parser.parseValue()
                    parser.skipSpace()
                    guard parser.index < parser.characters.count, parser.characters[parser.index] == ":" else {
                        throw parser.error("expected ':' after a dict key")
                    }
                    parser.index += 1
                    let value = try parser.parseValue()
                    pairs.append((key, value))
                    parser.skipSpace()
                    guard parser.index < parser.characters.count else { throw parser.error("missing '}'") }
                    if parser.characters[parser.index] == "," {
                        parser.index += 1
                    } else if parser.characters[parser.index] != "}" {
                        throw parser.error("expected ',' or '}', found '\(parser.characters[parser.index])'")
                    }
                }
            }
        }
    }

    // MARK: - .npz reading

    /// The arrays of a `.npz` archive in archive order, named without the `.npy` suffix
    /// (`arr_0`, `arr_1`, … for `np.savez(path, *arrays)`; the keywords for `np.savez(path, w=...)`).
    public static func readNPZ(path: String) throws -> [(name: String, tensor: Tensor)] {
        let data = try readFile(path)
        return try data.withUnsafeBytes { try parseNPZ($0, path: path) }
    }

    /// The same from the bytes of an archive; `name` stands for the file in errors.
    public static func readNPZ(data: Data, name: String = "<npz data>") throws -> [(name: String, tensor: Tensor)] {
        try data.withUnsafeBytes { try parseNPZ($0, path: name) }
    }

    /// The arrays of a `.npz` archive by name (without the `.npy` suffix).
    public static func loadNPZ(path: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, tensor) in try readNPZ(path: path) {
            guard result.updateValue(tensor, forKey: name) == nil else {
                throw RecurrentError.file(path: path, problem: "two members are both named '\(name)'")
            }
        }
        return result
    }

    /// One file of a ZIP archive, from its central directory entry.
    struct ZipEntry {
        var name: String
        var nameBytes: [UInt8]
        var flags: Int
        var method: Int
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
    }

    /// Little-endian reads that throw, naming the structure, when they would leave the buffer.
    struct ByteReader {
        let bytes: UnsafeRawBufferPointer
        let fail: (String) -> RecurrentError

        func check(_ offset: Int, _ length: Int, _ what: String) throws {
            guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
                throw fail("truncated or corrupt: \(what) at offset \(offset) (\(length) bytes) lies outside the file (\(bytes.count) bytes)")
            }
        }

        func u16(_ offset: Int, _ what: String) throws -> Int {
            try check(offset, 2, what)
            return Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        }

        func u32(_ offset: Int, _ what: String) throws -> UInt32 {
            try check(offset, 4, what)
            return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }

        func u64(_ offset: Int, _ what: String) throws -> Int {
            try check(offset, 8, what)
            let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            guard value <= UInt64(Int.max) else { throw fail("\(what) at offset \(offset) holds the impossible value \(value)") }
            return Int(value)
        }
    }

    enum Signature {
        static let local: UInt32 = 0x0403_4b50
        static let central: UInt32 = 0x0201_4b50
        static let end: UInt32 = 0x0605_4b50
        static let zip64End: UInt32 = 0x0606_4b50
        static let zip64Locator: UInt32 = 0x0706_4b50
    }

    static func parseNPZ(_ bytes: UnsafeRawBufferPointer, path: String) throws -> [(name: String, tensor: Tensor)] {
        let entries = try centralDirectory(bytes, path: path)
        var result: [(name: String, tensor: Tensor)] = []
        for entry in entries where !entry.name.hasSuffix("/") {
            let name = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            // A compressed member's .npy header says how many bytes it may inflate to: no more is inflated.
            let declared: (UnsafeRawBufferPointer) throws -> Int = { prefix in
                let layout = try npyLayout(prefix) { RecurrentError.invalidArgument($0) }   // withMember names the file and member
                return layout.dataStart + layout.dataBytes
            }
            let tensor = try withMember(entry, in: bytes, path: path, declaredSize: declared) { try parseNPY($0, path: path, member: entry.name) }
            result.append((name, tensor))
        }
        return result
    }

    /// The central directory's entries, in order (the order `np.savez` wrote them).
    static func centralDirectory(_ bytes: UnsafeRawBufferPointer, path: String) throws -> [ZipEntry] {
        func fail(_ problem: String) -> RecurrentError { .file(path: path, problem: problem) }
        let reader = ByteReader(bytes: bytes, fail: fail)

        // End of central directory: 22 bytes plus a comment of up to 65535, at the very end.
        guard bytes.count >= 22 else {
            throw fail("truncated: \(bytes.count) bytes, too short for a ZIP archive (a .npz is one)")
        }
        var endOffset: Int?
        var candidate = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 0xffff)
        while candidate >= lowest {
            if try reader.u32(candidate, "end record") == Signature.end,
               candidate + 22 + (try reader.u16(candidate + 20, "comment length")) == bytes.count
            {
                endOffset = candidate
                break
            }
            candidate -= 1
        }
        guard let end = endOffset else {
            let start = bytes.prefix(4).elementsEqual([0x50, 0x4b, 0x03, 0x04])
            throw fail(start
                ? "truncated or corrupt: no ZIP end-of-central-directory record at the end of the archive"
                : "bad magic: not a ZIP archive (no end-of-central-directory record, and it does not start with PK\\3\\4)")
        }
        let disk = try reader.u16(end + 4, "end record disk number")
        let directoryDisk = try reader.u16(end + 6, "end record directory disk")
        var entryCount = try reader.u16(end + 10, "end record entry count")
        var directorySize = Int(try reader.u32(end + 12, "end record directory size"))
        var directoryOffset = Int(try reader.u32(end + 16, "end record directory offset"))
        var directoryLimit = end  // the central directory ends before this

        // ZIP64: a locator just before the end record points to the ZIP64 end record.
        if end >= 20, try reader.u32(end - 20, "ZIP64 locator") == Signature.zip64Locator {
            let recordOffset = try reader.u64(end - 20 + 8, "ZIP64 end record offset")
            let disks = try reader.u32(end - 20 + 16, "ZIP64 locator disk count")
            guard disks <= 1 else { throw fail("multi-disk (split) ZIP archives are not supported (\(disks) disks)") }
            guard recordOffset <= end - 20 - 56, try reader.u32(recordOffset, "ZIP64 end record") == Signature.zip64End else {
                throw fail("corrupt: the ZIP64 locator points to offset \(recordOffset), where no ZIP64 end record is")
            }
            guard try reader.u32(recordOffset + 16, "ZIP64 disk number") == 0,
                  try reader.u32(recordOffset + 20, "ZIP64 directory disk") == 0
            else { throw fail("multi-disk (split) ZIP archives are not supported") }
            entryCount = try reader.u64(recordOffset + 32, "ZIP64 entry count")
            directorySize = try reader.u64(recordOffset + 40, "ZIP64 directory size")
            directoryOffset = try reader.u64(recordOffset + 48, "ZIP64 directory offset")
            directoryLimit = recordOffset
        } else if disk != 0 || directoryDisk != 0 {
            throw fail("multi-disk (split) ZIP archives are not supported")
        }
        guard directoryOffset <= directoryLimit, directorySize <= directoryLimit - directoryOffset else {
            throw fail("truncated or corrupt: the central directory (offset \(directoryOffset), \(directorySize) bytes) "
                + "does not lie before the end record at offset \(directoryLimit)")
        }
        guard entryCount <= directorySize / 46 else {
            throw fail("corrupt: \(entryCount) entries cannot fit a central directory of \(directorySize) bytes")
        }

        var entries: [ZipEntry] = []
        var position = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for number in 0..<entryCount {
            let what = "central directory entry \(number)"
            guard position <= directoryEnd - 46, try reader.u32(position, what) == Signature.central else {
                throw fail("corrupt: \(what) at offset \(position) is missing or lacks its signature")
            }
            let flags = try reader.u16(position + 8, what)
            let method = try reader.u16(position + 10, what)
            let crc = try reader.u32(position + 16, what)
            var compressedSize = Int(try reader.u32(position + 20, what))
            var uncompressedSize = Int(try reader.u32(position + 24, what))
            let nameLength = try reader.u16(position + 28, what)
            let extraLength = try reader.u16(position + 30, what)
            let commentLength = try reader.u16(position + 32, what)
            var localHeaderOffset = Int(try reader.u32(position + 42, what))
            let nameStart = position + 46
            let next = nameStart + nameLength + extraLength + commentLength
            guard next <= directoryEnd else {
                throw fail("corrupt: \(what) at offset \(position) runs past the end of the central directory")
            }
            let nameBytes = Array(bytes[nameStart..<(nameStart + nameLength)])
            let name = String(validating: nameBytes, as: UTF8.self)
                ?? String(String.UnicodeScalarView(nameBytes.map { Unicode.Scalar($0) }))

            // ZIP64 extended information: the 8-byte values of the fields that read 0xFFFFFFFF, in order.
            var extra = nameStart + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try reader.u16(extra, what)
                let size = try reader.u16(extra + 2, what)
                guard extra + 4 + size <= extraEnd else {
                    throw fail("corrupt: an extra field of member '\(name)' runs past its entry")
                }
                if id == 0x0001 {
                    var field = extra + 4
                    func next64(_ label: String) throws -> Int {
                        guard field + 8 <= extra + 4 + size else {
                            throw fail("corrupt: the ZIP64 extra field of member '\(name)' lacks the \(label)")
                        }
                        defer { field += 8 }
                        return try reader.u64(field, "ZIP64 \(label) of member '\(name)'")
                    }
                    if uncompressedSize == 0xffff_ffff { uncompressedSize = try next64("uncompressed size") }
                    if compressedSize == 0xffff_ffff { compressedSize = try next64("compressed size") }
                    if localHeaderOffset == 0xffff_ffff { localHeaderOffset = try next64("local header offset") }
                }
                extra += 4 + size
            }
            entries.append(ZipEntry(name: name, nameBytes: nameBytes, flags: flags, method: method, crc: crc,
                                    compressedSize: compressedSize, uncompressedSize: uncompressedSize,
                                    localHeaderOffset: localHeaderOffset))
            position = next
        }
        return entries
    }

    /// Calls `body` with the uncompressed, CRC-checked bytes of one member (a stored member is
    /// passed in place, without a copy).
    /// `declaredSize` reads the size a member's content declares from its first bytes (64 KiB
    /// at most): a compressed member whose recorded size differs is refused before it is
    /// inflated (a zip bomb records a size far beyond what its array needs).
    static func withMember<R>(_ entry: ZipEntry, in bytes: UnsafeRawBufferPointer, path: String,
                              declaredSize: ((UnsafeRawBufferPointer) throws -> Int)? = nil,
                              _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        func fail(_ problem: String) -> RecurrentError { .file(path: path, problem: "member '\(entry.name)': \(problem)") }
        let reader = ByteReader(bytes: bytes, fail: fail)
        guard entry.flags & 1 == 0 else { throw fail("is encrypted, which is not supported") }
        guard entry.method == 0 || entry.method == 8 else {
            throw fail("compression method \(entry.method) is not supported (only 0, stored, and 8, deflate)")
        }
        let local = entry.localHeaderOffset
        guard try reader.u32(local, "local header") == Signature.local else {
            throw fail("corrupt: no local file header at offset \(local)")
        }
        let nameLength = try reader.u16(local + 26, "local header")
        let extraLength = try reader.u16(local + 28, "local header")
        let dataStart = local + 30 + nameLength + extraLength
        try reader.check(local + 30, nameLength, "local header name")
        guard bytes[(local + 30)..<(local + 30 + nameLength)].elementsEqual(entry.nameBytes) else {
            throw fail("corrupt: the local header at offset \(local) names another file than the central directory")
        }
        guard dataStart <= bytes.count, entry.compressedSize <= bytes.count - dataStart else {
            throw fail("truncated: \(entry.compressedSize) bytes of data from offset \(dataStart) run past the end of the file (\(bytes.count) bytes)")
        }
        let stored = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<(dataStart + entry.compressedSize)])
        func verified(_ content: UnsafeRawBufferPointer) throws -> R {
            let crc = CRC32.checksum(content)
            guard crc == entry.crc else {
                throw fail("CRC-32 mismatch: the data has \(hex(crc)), the archive records \(hex(entry.crc)) (corrupt file)")
            }
            return try body(content)
        }
        if entry.method == 0 {
            guard entry.compressedSize == entry.uncompressedSize else {
                throw fail("corrupt: stored (uncompressed) but its sizes differ (\(entry.compressedSize) and \(entry.uncompressedSize))")
            }
            return try verified(stored)
        }
        let content: [UInt8]
        do {
            if let declaredSize {
                let prefix = try Inflate.prefix(stored, count: min(entry.uncompressedSize, 65_536))
                let declared: Int
                do {
                    declared = try prefix.withUnsafeBytes { try declaredSize($0) }
                } catch let error as RecurrentError {
                    throw fail("its first inflated bytes are not a valid header (corrupt data, or not an array): \(error)")
                }
                guard declared == entry.uncompressedSize else {
                    throw fail("records \(entry.uncompressedSize) bytes uncompressed, but its header declares \(declared); not inflated")
                }
            }
            content = try Inflate.inflate(stored, expectedCount: entry.uncompressedSize)
        } catch let error as Inflate.Failure {
            throw fail("corrupt deflate data: \(error)")
        }
        guard content.count == entry.uncompressedSize else {
            throw fail("corrupt: inflates to \(content.count) bytes, but \(entry.uncompressedSize) are recorded")
        }
        return try content.withUnsafeBytes { try verified($0) }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func readFile(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw RecurrentError.file(path: path, problem: "\(reason) (\(error.localizedDescription))")
        }
    }

    // MARK: - Writing

    /// The `.npy` bytes of `tensor`: little-endian float32, C order, format 1.0 (2.0 only when
    /// the header would not fit), with exactly the header `np.save` writes.
    public static func writeNPY(_ tensor: Tensor) -> Data {
        let shape: String
        switch tensor.rank {
        case 0: shape = "()"
        case 1: shape = "(\(tensor.shape[0]),)"
        default: shape = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        if let first = tensor.shape.first {  // numpy's room for growing the first axis in place
            header += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        var headerBytes = Array(header.utf8)
        // Format 1.0 unless its 2-byte header length would overflow (as numpy chooses).
        var version: UInt8 = 1
        var padding = 64 - (10 + headerBytes.count + 1) % 64
        if headerBytes.count + 1 + padding > 0xffff {
            version = 2
            padding = 64 - (12 + headerBytes.count + 1) % 64
        }
        headerBytes += repeatElement(UInt8(ascii: " "), count: padding)
        headerBytes.append(UInt8(ascii: "\n"))

        var data = Data(magic + [version, 0])
        if version == 1 {
            withUnsafeBytes(of: UInt16(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        }
        data.append(contentsOf: headerBytes)
        let start = data.count
        data.count += tensor.count * 4
        data.withUnsafeMutableBytes { out in
            tensor.withUnsafeBufferPointer { values in
                for (i, value) in values.enumerated() {
                    out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: start + i * 4, as: UInt32.self)
                }
            }
        }
        return data
    }

    /// Writes `arrays` as a `.npz` archive readable by `np.load`: each one a stored (uncompressed)
    /// member `NAME.npy` of little-endian float32, in the order given. Written to a temporary file
    /// beside `path` and renamed into place.
    public static func writeNPZ(_ arrays: [(String, Tensor)], to path: String) throws {
        try SafeTensors.writeAtomically(try encodeNPZ(arrays, path: path), to: path)
    }

    /// The archive's bytes. ZIP64 records are written where sizes or offsets need them, or
    /// everywhere with `forceZip64` (for tests).
    static func encodeNPZ(_ arrays: [(String, Tensor)], path: String, forceZip64: Bool = false) throws -> Data {
        var seen = Set<String>()
        for (name, _) in arrays {
            guard !name.isEmpty else { throw RecurrentError.file(path: path, problem: "an array has an empty name") }
            guard seen.insert(name).inserted else {
                throw RecurrentError.file(path: path, problem: "two arrays are both named '\(name)'")
            }
        }
        func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
            withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
        }
        let dosTime: UInt16 = 0, dosDate: UInt16 = 0x21  // 1980-01-01 00:00, for reproducible files
        let limit = 0xffff_ffff
        var out = Data()
        var central = Data()
        for (name, tensor) in arrays {
            let member = writeNPY(tensor)
            let fileName = Array((name + ".npy").utf8)
            let crc = member.withUnsafeBytes { CRC32.checksum($0) }
            let offset = out.count
            let zip64 = forceZip64 || member.count >= limit || offset >= limit
            let flags: UInt16 = fileName.allSatisfy { $0 < 0x80 } ? 0 : 0x800  // UTF-8 names
            let version: UInt16 = zip64 ? 45 : 20

            append(Signature.local, to: &out)
            append(version, to: &out)
            append(flags, to: &out)
            append(UInt16(0), to: &out)  // stored
            append(dosTime, to: &out)
            append(dosDate, to: &out)
            append(crc, to: &out)
            append(UInt32(zip64 ? limit : member.count), to: &out)
            append(UInt32(zip64 ? limit : member.count), to: &out)
            append(UInt16(fileName.count), to: &out)
            append(UInt16(zip64 ? 20 : 0), to: &out)
            out.append(contentsOf: fileName)
            if zip64 {
                append(UInt16(1), to: &out)
                append(UInt16(16), to: &out)
                append(UInt64(member.count), to: &out)
                append(UInt64(member.count), to: &out)
            }
            out.append(member)

            append(Signature.central, to: &central)
            append(UInt16(3 << 8) | version, to: &central)  // made by: Unix
            append(version, to: &central)
            append(flags, to: &central)
            append(UInt16(0), to: &central)
            append(dosTime, to: &central)
            append(dosDate, to: &central)
            append(crc, to: &central)
            append(UInt32(zip64 ? limit : member.count), to: &central)
            append(UInt32(zip64 ? limit : member.count), to: &central)
            append(UInt16(fileName.count), to: &central)
            append(UInt16(zip64 ? 28 : 0), to: &central)
            append(UInt16(0), to: &central)  // comment
            append(UInt16(0), to: &central)  // disk
            append(UInt16(0), to: &central)  // internal attributes
            append(UInt32(0o100644) << 16, to: &central)  // regular file, rw-r--r--
            append(UInt32(zip64 ? limit : offset), to: &central)
            central.append(contentsOf: fileName)
            if zip64 {
                append(UInt16(1), to: &central)
                append(UInt16(24), to: &central)
                append(UInt64(member.count), to: &central)
                append(UInt64(member.count), to: &central)
                append(UInt64(offset), to: &central)
            }
        }
        let directoryOffset = out.count
        out.append(central)
        let zip64End = forceZip64 || arrays.count >= 0xffff || directoryOffset >= limit || central.count >= limit
        if zip64End {
            let recordOffset = out.count
            append(Signature.zip64End, to: &out)
            append(UInt64(44), to: &out)
            append(UInt16(45), to: &out)
            append(UInt16(45), to: &out)
            append(UInt32(0), to: &out)
            append(UInt32(0), to: &out)
            append(UInt64(arrays.count), to: &out)
            append(UInt64(arrays.count), to: &out)
            append(UInt64(central.count), to: &out)
            append(UInt64(directoryOffset), to: &out)
            append(Signature.zip64Locator, to: &out)
            append(UInt32(0), to: &out)
            append(UInt64(recordOffset), to: &out)
            append(UInt32(1), to: &out)
        }
        append(Signature.end, to: &out)
        append(UInt16(0), to: &out)
        append(UInt16(0), to: &out)
        append(UInt16(zip64End ? 0xffff : arrays.count), to: &out)
        append(UInt16(zip64End ? 0xffff : arrays.count), to: &out)
        append(UInt32(zip64End ? limit : central.count), to: &out)
        append(UInt32(zip64End ? limit : directoryOffset), to: &out)
        append(UInt16(0), to: &out)
        return out
    }
}
