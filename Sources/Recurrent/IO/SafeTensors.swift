import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing the safetensors format (Hugging Face), the format of the committed
/// test fixtures and of checkpoints.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data
/// section. The JSON maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// (offsets relative to the data section) and may hold `"__metadata__"`, a string-to-string map.
///
/// Reading accepts F32, F64, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8 and BOOL and
/// converts every tensor to Float32 (integers above 2^24 round). Everything is validated, and
/// each problem is thrown as `RecurrentError.file(path:problem:)` naming what is wrong and where.
/// Writing produces F32 little-endian in the byte layout of the Python `safetensors` library
/// (keys sorted, header padded with spaces to a multiple of 8), atomically.
public enum SafeTensors {
    /// The largest header accepted, as in the reference implementation (100 MB).
    static let maxHeaderLength: UInt64 = 100_000_000

    /// Element types of the format that can be read, with their sizes in bytes.
    enum DType: String, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
        case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8"
        case bool = "BOOL"

        var size: Int {
            switch self {
            case .f64, .i64, .u64: return 8
            case .f32, .i32, .u32: return 4
            case .f16, .bf16, .i16, .u16: return 2
            case .i8, .u8, .bool: return 1
            }
        }
    }

    /// One tensor's entry in the header, validated.
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    // MARK: - Reading

    /// All tensors of a safetensors file (converted to Float32) and its `__metadata__`.
    public static func read(path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw RecurrentError.file(path: path, problem: "\(reason) (\(error.localizedDescription))")
        }
        return try data.withUnsafeBytes { try parse($0, path: path) }
    }

    /// The same from the bytes of a file; `name` stands for the file in errors.
    public static func read(data: Data, name: String = "<safetensors data>") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try data.withUnsafeBytes { try parse($0, path: name) }
    }

    /// All tensors of a safetensors file, converted to Float32.
    public static func load(path: String) throws -> [String: Tensor] {
        try read(path: path).tensors
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws
        -> (tensors: [String: Tensor], metadata: [String: String])
    {
        func fail(_ problem: String) -> RecurrentError { .file(path: path, problem: problem) }

        guard bytes.count >= 8 else {
            throw fail("file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("not a safetensors file: the first 8 bytes give a header of \(byteSize(headerLength)) "
                + "(header length \(headerLength)), which runs past the end of the file "
                + "(\(bytes.count) bytes, so at most \(bytes.count - 8) bytes of header)")
        }
        guard headerLength <= maxHeaderLength else {
            throw fail("header length \(headerLength) exceeds the limit of \(maxHeaderLength) bytes")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        guard let headerText = String(validating: headerBytes, as: UTF8.self) else {
            throw fail("header (bytes 8..<\(dataStart)) is not valid UTF-8")
        }
        if let problem = JSONShape.problem(in: headerText) {
            throw fail("header (bytes 8..<\(dataStart)): \(problem)")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerText.utf8))
        } catch {
            let preview = headerText.prefix(60)
            throw fail("header (bytes 8..<\(dataStart)) is not valid JSON: "
                + "\(error.localizedDescription); it begins \"\(preview)\"")
        }
        guard let header = json as? [String: Any] else {
            throw fail("header (bytes 8..<\(dataStart)) is JSON but not an object of tensor entries")
        }

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let object = raw as? [String: Any] else {
                throw fail("__metadata__ is not an object of strings")
            }
            for (key, value) in object {
                guard let string = value as? String else {
                    throw fail("__metadata__ entry '\(key)' is not a string")
                }
                metadata[key] = string
            }
        }

        let dataLength = bytes.count - dataStart
        var entries: [Entry] = []
        for (name, raw) in header where name != "__metadata__" {
            entries.append(try entry(name: name, raw, dataLength: dataLength, dataStart: dataStart, path: path))
        }

        // The data section must be covered exactly: no overlaps, no holes, nothing after the last tensor.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: Entry?
        for entry in entries where entry.end > entry.begin {
            if entry.begin < covered, let previous {
                throw fail("tensors '\(previous.name)' (data_offsets [\(previous.begin), \(previous.end)]) and "
                    + "'\(entry.name)' (data_offsets [\(entry.begin), \(entry.end)]) overlap")
            }
            if entry.begin > covered {
                throw fail("bytes \(covered)..<\(entry.begin) of the data section (file offset "
                    + "\(dataStart + covered)) belong to no tensor; the next is '\(entry.name)'")
            }
            covered = entry.end
            previous = entry
        }
        if covered != dataLength {
            throw fail("\(dataLength - covered) trailing bytes after the last tensor, at data offset "
                + "\(covered) (file offset \(dataStart + covered)), belong to no tensor")
        }

        var tensors: [String: Tensor] = [:]
        for entry in entries {
            let source = UnsafeRawBufferPointer(rebasing: bytes[(dataStart + entry.begin)..<(dataStart + entry.end)])
            tensors[entry.name] = convert(source, dtype: entry.dtype, shape: entry.shape)
        }
        return (tensors, metadata)
    }

    /// Validates one tensor entry of the header.
    static func entry(name: String, _ raw: Any, dataLength: Int, dataStart: Int, path: String) throws -> Entry {
        func fail(_ problem: String) -> RecurrentError { .file(path: path, problem: "tensor '\(name)': \(problem)") }

        guard let object = raw as? [String: Any] else {
            throw fail("header entry is not an object with dtype, shape and data_offsets")
        }
        guard let dtypeName = object["dtype"] as? String else {
            throw fail("missing or non-string \"dtype\"")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("unsupported dtype '\(dtypeName)' (readable: \(known))")
        }
        guard let shapeValues = object["shape"] as? [Any] else {
            throw fail("missing \"shape\" or not an array")
        }
        var shape: [Int] = []
        for value in shapeValues {
            guard let extent = integer(value), extent >= 0 else {
                throw fail("shape \(describe(shapeValues)) has an entry that is not a non-negative integer")
            }
            shape.append(extent)
        }
        guard let offsetValues = object["data_offsets"] as? [Any], offsetValues.count == 2,
              let begin = integer(offsetValues[0]), let end = integer(offsetValues[1])
        else {
            throw fail("\"data_offsets\" must be two integers [begin, end], got \(describe(object["data_offsets"]))")
        }
        guard begin >= 0, begin <= end else {
            throw fail("data_offsets [\(begin), \(end)] are not an ascending range")
        }
        guard end <= dataLength else {
            throw fail("data_offsets [\(begin), \(end)] run past the end of the data section, which holds "
                + "\(dataLength) bytes (file offsets \(dataStart)..<\(dataStart + dataLength))")
        }
        var elements = 1
        for extent in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw fail("shape \(Shape.describe(shape)) has too many elements") }
            elements = product
        }
        let (needed, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, end - begin == needed else {
            throw fail("data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(Shape.describe(shape)) "
                + "of \(dtype.rawValue) needs \(elements) × \(dtype.size) = \(overflow ? "too many" : String(needed)) bytes")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// An exact integer from a JSON number (rejects booleans, fractions and strings).
    static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        // JSON true/false arrive as NSNumber too (and `is Bool` holds for 0 and 1): tell them
        // apart by the stored type, which is "c" (char) only for booleans.
        if String(cString: number.objCType) == "c" { return nil }
        return value as? Int  // nil for fractions and for values beyond Int
    }

    static func describe(_ value: Any?) -> String {
        guard let value else { return "nothing" }
        if JSONSerialization.isValidJSONObject([value]),
           let data = try? JSONSerialization.data(withJSONObject: [value]),
           let text = String(data: data, encoding: .utf8)
        {
            return String(text.dropFirst().dropLast())
        }
        return "\(value)"
    }

    /// Little-endian elements of `dtype` to a Float32 tensor.
    static func convert(_ source: UnsafeRawBufferPointer, dtype: DType, shape: [Int]) -> Tensor {
        var tensor = Tensor.zeros(shape)
        tensor.withUnsafeMutableBufferPointer { out in
            func fill<T: FixedWidthInteger>(_: T.Type, _ transform: (T) -> Float) {
                for i in 0..<out.count {
                    out[i] = transform(T(littleEndian: source.loadUnaligned(fromByteOffset: i * T.bitWidth / 8, as: T.self)))
                }
            }
            switch dtype {
            case .f32: fill(UInt32.self) { Float(bitPattern: $0) }
            case .f64: fill(UInt64.self) { Float(Double(bitPattern: $0)) }
            case .f16: fill(UInt16.self) { halfToFloat($0) }
            case .bf16: fill(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
            case .i64: fill(Int64.self) { Float($0) }
            case .i32: fill(Int32.self) { Float($0) }
            case .i16: fill(Int16.self) { Float($0) }
            case .i8: fill(Int8.self) { Float($0) }
            case .u64: fill(UInt64.self) { Float($0) }
            case .u32: fill(UInt32.self) { Float($0) }
            case .u16: fill(UInt16.self) { Float($0) }
            case .u8: fill(UInt8.self) { Float($0) }
            case .bool: fill(UInt8.self) { $0 != 0 ? 1 : 0 }
            }
        }
        return tensor
    }

    /// IEEE binary16 bits to Float (exact: every half is a float).
    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1f
        let mantissa = UInt32(bits & 0x03ff)
        if exponent == 0x1f {  // infinity or NaN, payload kept
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        }
        if exponent == 0 {  // zero or subnormal: mantissa × 2^-24
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }

    // MARK: - Writing

    /// Writes `tensors` as F32 with `metadata` in `__metadata__` (omitted when empty).
    ///
    /// Byte-for-byte the layout of Python's `safetensors.torch.save_file` for float32 tensors:
    /// entries sorted by name, data in that order, header padded with spaces to a multiple of 8.
    /// The file is written to a temporary file in the same directory and renamed into place, so
    /// `path` holds either its old content or the complete new file, never a partial one.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        if tensors["__metadata__"] != nil {
            throw RecurrentError.file(path: path, problem: "'__metadata__' is reserved and cannot name a tensor")
        }
        let bytes = encode(tensors, metadata: metadata)
        try writeAtomically(bytes, to: path)
    }

    /// The complete file content.
    static func encode(_ tensors: [String: Tensor], metadata: [String: String]) -> Data {
        let names = tensors.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var parts: [String] = []
        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let fields = keys.map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\"__metadata__\":{" + fields.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let size = tensor.count * 4
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var data = Data(count: 8 + header.count + offset)
        data.withUnsafeMutableBytes { out in
            out.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            header.withUnsafeBytes { out.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            var position = 8 + header.count
            for name in names {
                tensors[name]!.withUnsafeBufferPointer { values in
                    for value in values {
                        out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: position, as: UInt32.self)
                        position += 4
                    }
                }
            }
        }
        return data
    }

    /// A JSON string literal (quotes, backslashes and control characters escaped).
    static func jsonString(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Writes to a temporary file beside `path`, then renames it over `path`. On any failure
    /// the temporary file is removed and `path` is untouched.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-" + UUID().uuidString
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw RecurrentError.file(path: path, problem: "cannot write (\(error.localizedDescription))")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw RecurrentError.file(path: path, problem: "cannot move the written file into place (\(reason))")
        }
    }
}

/// A byte count as people read it: "812 B", "4.2 MB", "8.4 EB" (powers of 1000).
func byteSize(_ bytes: UInt64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(bytes), unit = 0
    while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
