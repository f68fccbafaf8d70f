import Foundation
import Testing

@testable import Recurrent

@Suite struct SafeTensorsTests {
    /// A fresh empty directory for one test.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A file made of an explicit header length, header text and data bytes.
    static func rawFile(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) throws -> String {
        let headerBytes = Array(header.utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (headerLength ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes += headerBytes + data
        let path = try temporaryDirectory() + "/test.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    /// The message of the error `body` throws (the test fails when it throws none).
    static func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            Issue.record("expected an error")
            return ""
        } catch {
            return "\(error)"
        }
    }

    static func bitsEqual(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)
    }

    // MARK: Round trip and format

    @Test func roundTripIsBitIdentical() throws {
        var generator = SeededGenerator(seed: 7)
        let random = (0..<60).map { _ in generator.nextNormal() * 3 }
        let special: [Float] = [
            0, -0.0, .infinity, -.infinity, .nan, Float(bitPattern: 0x7fc1_2345), Float(bitPattern: 0xffa0_0001),
            .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, 1e-30, -123.456,
        ]
        let tensors: [String: Tensor] = [
            "weight_ih_l0": try Tensor(shape: [12, 5], scalars: random),
            "special": try Tensor(shape: [3, 4], scalars: special),
            "scalar": Tensor(scalar: 2.5),
            "empty": Tensor.zeros([0, 3]),
            "name with \"quotes\", \\ and ünïcode ✓": Tensor([1, 2, 3]),
        ]
        let metadata = ["format": "pt", "note": "line\nbreak \"quoted\" \u{1}", "cases": "[{\"a\": 1}]"]
        let path = try Self.temporaryDirectory() + "/round.safetensors"
        try SafeTensors.write(tensors, metadata: metadata, to: path)
        let (read, readMetadata) = try SafeTensors.read(path: path)
        #expect(readMetadata == metadata)
        #expect(Set(read.keys) == Set(tensors.keys))
        for (name, tensor) in tensors {
            #expect(Self.bitsEqual(read[name]!, tensor), "tensor \(name)")
        }
        #expect(try SafeTensors.load(path: path).count == tensors.count)

        // Writing what was read gives the same bytes again.
        let again = path + ".2"
        try SafeTensors.write(read, metadata: readMetadata, to: again)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: again)))
    }

    @Test func writesTheBytesPythonWrites() throws {
        // Python: save_file({'b': torch.tensor([[3.0]]), 'a': torch.tensor([1.0, -2.0])}, p, metadata={'k': 'v'})
        // (safetensors 0.8.0) writes this header (136 bytes with one trailing space) and data.
        let expectedHeader = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}} "#
        let expectedData: [UInt8] = [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x40, 0x40]
        var expected = Self.littleEndianBytes([UInt64(136)])
        expected += Array(expectedHeader.utf8) + expectedData
        #expect(expectedHeader.utf8.count == 136)

        let path = try Self.temporaryDirectory() + "/python.safetensors"
        try SafeTensors.write(["b": try Tensor([[3]]), "a": Tensor([1, -2])], metadata: ["k": "v"], to: path)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == expected)

        // Without metadata Python omits __metadata__ and pads 110 bytes of JSON with two spaces.
        try SafeTensors.write(["b": try Tensor([[3]]), "a": Tensor([1, -2])], to: path)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.prefix(8) == [112, 0, 0, 0, 0, 0, 0, 0])
        #expect(String(decoding: bytes[8..<120], as: UTF8.self)
            == #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}  "#)
    }

    @Test func readsEveryDType() throws {
        let f64 = Self.littleEndianBytes([(1.5 as Double).bitPattern, (-1e-3 as Double).bitPattern])
        // F16: 1.0, -2.0, 65504 (max), smallest subnormal 2^-24, +inf, NaN
        let f16 = Self.littleEndianBytes([UInt16(0x3c00), 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00])
        // BF16: 1.0, -3.0, 1.5e-5-ish
        let bf16 = Self.littleEndianBytes([UInt16(0x3f80), 0xc040, 0x377c])
        let i64 = Self.littleEndianBytes([Int64(-5), 1 << 40])
        let i32 = Self.littleEndianBytes([Int32(-7), 123_456])
        let i8 = Self.littleEndianBytes([Int8(-128), 127])
        let u8: [UInt8] = [0, 255]
        let bool: [UInt8] = [1, 0, 1]
        let i16 = Self.littleEndianBytes([Int16(-300)])
        let u16 = Self.littleEndianBytes([UInt16(60000)])
        let u32 = Self.littleEndianBytes([UInt32(4_000_000)])
        let u64 = Self.littleEndianBytes([UInt64(9)])
        let parts: [(String, String, String, [UInt8])] = [
            ("a_f64", "F64", "[2]", f64), ("b_f16", "F16", "[2,3]", f16), ("c_bf16", "BF16", "[3]", bf16),
            ("d_i64", "I64", "[2]", i64), ("e_i32", "I32", "[2]", i32), ("f_i8", "I8", "[2]", i8),
            ("g_u8", "U8", "[2]", u8), ("h_bool", "BOOL", "[3]", bool), ("i_i16", "I16", "[]", i16),
            ("j_u16", "U16", "[1]", u16), ("k_u32", "U32", "[1]", u32), ("l_u64", "U64", "[1,1]", u64),
        ]
        var entries: [String] = []
        var data: [UInt8] = []
        for (name, dtype, shape, bytes) in parts {
            entries.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(data.count),\(data.count + bytes.count)]}")
            data += bytes
        }
        let path = try Self.rawFile(header: "{" + entries.joined(separator: ",") + "}", data: data)
        let t = try SafeTensors.load(path: path)
        #expect(t["a_f64"]!.scalars == [1.5, Float(-1e-3 as Double)])
        let half = t["b_f16"]!
        #expect(half.shape == [2, 3])
        #expect(Array(half.scalars.prefix(5)) == [1, -2, 65504, 0x1p-24, .infinity])
        #expect(half.scalars[5].isNaN)
        #expect(t["c_bf16"]!.scalars == [1, -3, Float(bitPattern: 0x377c_0000)])
        #expect(t["d_i64"]!.scalars == [-5, Float(1 << 40)])
        #expect(t["e_i32"]!.scalars == [-7, 123_456])
        #expect(t["f_i8"]!.scalars == [-128, 127])
        #expect(t["g_u8"]!.scalars == [0, 255])
        #expect(t["h_bool"]!.scalars == [1, 0, 1])
        #expect(t["i_i16"]!.shape == [] && t["i_i16"]!.scalar == -300)
        #expect(t["j_u16"]!.scalars == [60000])
        #expect(t["k_u32"]!.scalars == [4_000_000])
        #expect(t["l_u64"]!.shape == [1, 1] && t["l_u64"]!.scalars == [9])
    }

    // MARK: The fixture written by Python

    @Test func readsTheOptimizerFixtureFromPython() throws {
        let path = try Fixtures.path("optimizers")
        #expect(FileManager.default.fileExists(atPath: path))
        let (tensors, metadata) = try Fixtures.load("optimizers")
        #expect(metadata["torch_version"]?.hasPrefix("2.13.0") == true)
        let casesJSON = try #require(metadata["cases"])
        let cases = try #require(try JSONSerialization.jsonObject(with: Data(casesJSON.utf8)) as? [[String: Any]])
        #expect(cases.count == 11)
        #expect(cases.map { $0["name"] as? String } .contains("rmsprop_centered"))

        let x = try #require(tensors["x"]), y = try #require(tensors["y"])
        let w0 = try #require(tensors["W0"]), b0 = try #require(tensors["b0"])
        #expect(x.shape == [5, 3] && y.shape == [5, 4] && w0.shape == [3, 4] && b0.shape == [4])
        for case let name? in cases.map({ $0["name"] as? String }) {
            for t in 1...3 {
                #expect(tensors["\(name).W\(t)"]?.shape == [3, 4], "\(name).W\(t)")
                #expect(tensors["\(name).b\(t)"]?.shape == [4], "\(name).b\(t)")
                #expect(tensors["\(name).loss\(t)"]?.shape == [1], "\(name).loss\(t)")
            }
        }
        #expect(tensors["clip.g0"]?.shape == [3, 4] && tensors["clip.norm_total"]?.shape == [1])
        #expect(tensors["sched.step"]?.scalars == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125])
        #expect(tensors["sched.cosine"]?.shape == [10])

        // The numbers mean what the generator says: recompute loss1 and one plain SGD step.
        // loss = mean((x W + b − y)²); dL/dW = (2/20) xᵀ r; dL/db = (2/20) Σ_rows r.
        var residual = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 5)
        var loss = 0.0
        for i in 0..<5 {
            for j in 0..<4 {
                var value = Double(b0[j]) - Double(y[i, j])
                for k in 0..<3 { value += Double(x[i, k]) * Double(w0[k, j]) }
                residual[i][j] = value
                loss += value * value / 20
            }
        }
        let loss1 = try #require(tensors["sgd.loss1"]).scalar
        #expect(abs(Double(loss1) - loss) <= 1e-5 * loss)
        let w1 = try #require(tensors["sgd.W1"]), b1 = try #require(tensors["sgd.b1"])
        for j in 0..<4 {
            for k in 0..<3 {
                let grad = (0..<5).reduce(0.0) { $0 + Double(x[$1, k]) * residual[$1][j] } / 10
                #expect(abs(Double(w1[k, j]) - (Double(w0[k, j]) - 0.1 * grad)) <= 1e-5)
            }
            let grad = (0..<5).reduce(0.0) { $0 + residual[$1][j] } / 10
            #expect(abs(Double(b1[j]) - (Double(b0[j]) - 0.1 * grad)) <= 1e-5)
        }
    }

    // MARK: Malformed files

    static let goodEntry = #""w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
    static let eightBytes = [UInt8](repeating: 0, count: 8)

    @Test func missingFile() {
        let message = Self.message { _ = try SafeTensors.read(path: "/nonexistent/dir/none.safetensors") }
        #expect(message.contains("/nonexistent/dir/none.safetensors") && message.contains("no such file"))
    }

    @Test func fileShorterThanTheLengthField() throws {
        let path = try Self.temporaryDirectory() + "/short.safetensors"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let message = Self.message { _ = try SafeTensors.read(path: path) }
        #expect(message.contains("3 bytes") && message.contains("8-byte header length"))
    }

    @Test func headerLengthBeyondTheFile() throws {
        let path = try Self.rawFile(header: "{}", headerLength: 1000)
        let message = Self.message { _ = try SafeTensors.read(path: path) }
        #expect(message.contains("header length 1000") && message.contains("past the end of the file"))
        let huge = try Self.rawFile(header: "{}", headerLength: UInt64.max)
        #expect(Self.message { _ = try SafeTensors.read(path: huge) }.contains("past the end of the file"))
        // A text file read as safetensors: its first 8 bytes make an absurd header length.
        let text = try Self.temporaryDirectory() + "/notes.safetensors"
        try Data("# Notes\nThe model is in model.pt\n".utf8).write(to: URL(fileURLWithPath: text))
        let said = Self.message { _ = try SafeTensors.read(path: text) }
        #expect(said.contains("not a safetensors file: the first 8 bytes give a header of 753.1 PB"), "\(said)")
        #expect(byteSize(812) == "812 B" && byteSize(4_200_000) == "4.2 MB" && byteSize(8_400_000_000_000_000_000) == "8.4 EB")
    }

    @Test func headerThatIsNotJSON() throws {
        let path = try Self.rawFile(header: #"{"w": {"dtype": "F32", "#)
        let message = Self.message { _ = try SafeTensors.read(path: path) }
        #expect(message.contains("not valid JSON"))
        let array = try Self.rawFile(header: "[1, 2]")
        #expect(Self.message { _ = try SafeTensors.read(path: array) }.contains("not an object"))
        let notUTF8 = try Self.rawFile(header: "{}", data: [])
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: notUTF8)))
        bytes[9] = 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: notUTF8))
        #expect(Self.message { _ = try SafeTensors.read(path: notUTF8) }.contains("not valid UTF-8"))
    }

    @Test func unknownDType() throws {
        let path = try Self.rawFile(
            header: #"{"ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
                + #""fp8":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[4,8]}}"#,
            data: Self.eightBytes)
        let message = Self.message { _ = try SafeTensors.read(path: path) }
        #expect(message.contains("tensor 'fp8'") && message.contains("unsupported dtype 'F8_E4M3'"))
    }

    @Test func offsetsOutOfRange() throws {
        let path = try Self.rawFile(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Self.eightBytes)
        let message = Self.message { _ = try SafeTensors.read(path: path) }
        #expect(message.contains("tensor 'w'") && message.contains("[0, 16]") && message.contains("past the end of the data section"))
        let descending = try Self.rawFile(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#, data: Self.eightBytes)
        #expect(Self.message { _ = try SafeTensors.read(path: descending) }.contains("not an ascending range"))
    }

    @Test func offsetsOverlap() throws {
        let path = try Self.rawFile(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            data: [UInt8](repeating: 0, count: 12))
        let message = Self.message { _ = try SafeTensors.read(path: path) }
        #expect(message.contains("'a'") && message.contains("'b'") && message.contains("overlap"))
    }

    @Test func offsetsThatDoNotMatchTheShape() throws {
        let path = try Self.rawFile(header: #"{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#, data: Self.eightBytes)
        let message = Self.message { _ = try SafeTensors.read(path: path) }
        #expect(message.contains("tensor 'w'") && message.contains("hold 8 bytes") && message.contains("needs 2 × 8 = 16 bytes"))
    }

    @Test func holesAndTrailingBytes() throws {
        let hole = try Self.rawFile(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Self.eightBytes)
        let message = Self.message { _ = try SafeTensors.read(path: hole) }
        #expect(message.contains("bytes 0..<4 of the data section") && message.contains("belong to no tensor"))
        let trailing = try Self.rawFile(header: "{" + Self.goodEntry + "}", data: Self.eightBytes + [1, 2])
        #expect(Self.message { _ = try SafeTensors.read(path: trailing) }.contains("2 trailing bytes"))
    }

    @Test func malformedEntries() throws {
        let cases: [(String, String)] = [
            (#"{"w":{"dtype":"F32","data_offsets":[0,8]}}"#, "missing \"shape\""),
            (#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, "not a non-negative integer"),
            (#"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, "not a non-negative integer"),
            (#"{"w":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}}"#, "not a non-negative integer"),
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,1e30]}}"#, "\"data_offsets\" must be two integers"),
            (#"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, "missing or non-string \"dtype\""),
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, "\"data_offsets\" must be two integers"),
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":"0-8"}}"#, "\"data_offsets\" must be two integers"),
            (#"{"w":[1,2]}"#, "header entry is not an object"),
            (#"{"__metadata__":{"n":1},"# + Self.goodEntry + "}", "__metadata__ entry 'n' is not a string"),
            (#"{"__metadata__":[1],"# + Self.goodEntry + "}", "__metadata__ is not an object"),
        ]
        for (header, expected) in cases {
            let path = try Self.rawFile(header: header, data: Self.eightBytes)
            let message = Self.message { _ = try SafeTensors.read(path: path) }
            #expect(message.contains(expected), "header \(header) gave: \(message)")
            #expect(message.hasPrefix(path))
        }
    }

    // MARK: Atomic writes

    @Test func failedWriteLeavesNoFile() throws {
        let directory = try Self.temporaryDirectory()
        // The target's directory does not exist: nothing is created.
        let missing = directory + "/no/such/dir/out.safetensors"
        #expect(Self.message { try SafeTensors.write(["w": Tensor([1])], to: missing) }.contains("cannot write"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/no"))

        // The temporary file is written but cannot replace the target (a directory): it is removed.
        let target = directory + "/out.safetensors"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let message = Self.message { try SafeTensors.write(["w": Tensor([1, 2])], to: target) }
        #expect(message.contains("cannot move the written file into place"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.safetensors"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)

        // A reserved name is refused before anything is written.
        let reserved = directory + "/reserved.safetensors"
        #expect(Self.message { try SafeTensors.write(["__metadata__": Tensor([1])], to: reserved) }.contains("reserved"))
        #expect(!FileManager.default.fileExists(atPath: reserved))
    }

    @Test func overwriteReplacesTheWholeFile() throws {
        let path = try Self.temporaryDirectory() + "/model.safetensors"
        try SafeTensors.write(["big": Tensor.ones([100])], metadata: ["v": "1"], to: path)
        try SafeTensors.write(["small": Tensor([4])], metadata: ["v": "2"], to: path)
        let (tensors, metadata) = try SafeTensors.read(path: path)
        #expect(tensors.keys.sorted() == ["small"] && metadata == ["v": "2"])
        let siblings = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(siblings == ["model.safetensors"])
    }
}
