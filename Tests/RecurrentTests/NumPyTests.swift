import Foundation
import Testing

@testable import Recurrent

/// The .npy / .npz reader and writer against files NumPy wrote
/// (`tools/reference/make_numpy_fixtures.py` → `Fixtures/numpy/`), plus corrupted and
/// truncated variants made here.
@Suite struct NumPyTests {
    // MARK: Helpers

    /// The path of `Fixtures/<folder>/<file>` inside the test bundle.
    static func fixture(_ file: String, folder: String = "numpy") throws -> String {
        let url = URL(fileURLWithPath: file)
        guard let path = Bundle.module.path(
            forResource: url.deletingPathExtension().lastPathComponent, ofType: url.pathExtension,
            inDirectory: "Fixtures/\(folder)")
        else {
            throw RecurrentError.file(
                path: "Fixtures/\(folder)/\(file)",
                problem: "not in the test bundle; generate it with tools/reference/make_numpy_fixtures.py")
        }
        return path
    }

    static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture(file))))
    }

    /// The values NumPy says each fixture holds (as float32), and the metadata.
    static func expected() throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try SafeTensors.read(path: fixture("expected.safetensors"))
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("numpy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ bytes: [UInt8], name: String = "test.npz") throws -> String {
        let path = try temporaryDirectory() + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Same shape and the same bits, except that any NaN equals any NaN.
    static func same(_ a: Tensor, _ b: Tensor) -> Bool {
        a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { x, y in
            x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
        }
    }

    /// The message of the error `body` throws (recording an issue when it throws none, or
    /// throws something other than `RecurrentError.file`).
    static func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            Issue.record("expected an error")
            return ""
        } catch let error as RecurrentError {
            guard case .file = error else {
                Issue.record("expected RecurrentError.file, got \(error)")
                return "\(error)"
            }
            return "\(error)"
        } catch {
            Issue.record("expected RecurrentError.file, got \(error)")
            return "\(error)"
        }
    }

    static let npyStems = [
        "dtype_f4", "dtype_f4_random", "dtype_f8", "dtype_f2", "dtype_i8", "dtype_i4", "dtype_i2", "dtype_i1",
        "dtype_u8", "dtype_u4", "dtype_u2", "dtype_u1", "dtype_b1", "fortran_f4", "fortran_big_f8", "big_f4",
        "big_i2", "big_u8", "scalar", "empty", "version2", "version3", "long_header",
    ]
    static let npzStems = ["savez_positional", "savez_named", "compressed_small", "compressed_large", "zip64"]

    // MARK: .npy

    @Test(arguments: npyStems) func readsWhatNumPyWrote(stem: String) throws {
        let expected = try #require(try Self.expected().tensors[stem])
        let path = try Self.fixture(stem + ".npy")
        let tensor = try NumPy.readNPY(path: path)
        #expect(Self.same(tensor, expected), "\(stem): got \(tensor.shape) \(tensor.scalars.prefix(8))")
        let fromData = try NumPy.readNPY(data: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Self.same(fromData, expected))
    }

    @Test func everyGeneratedArrayIsTested() throws {
        let dtypes = try #require(try Self.expected().metadata["dtypes"])
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(dtypes.utf8)) as? [String: String])
        #expect(Set(listed.keys) == Set(Self.npyStems))
        let order = try #require(try Self.expected().metadata["npz_order"])
        let archives = try #require(try JSONSerialization.jsonObject(with: Data(order.utf8)) as? [String: [String]])
        #expect(Set(archives.keys) == Set(Self.npzStems))
    }

    @Test func shapesOrderAndConversions() throws {
        // 0-d and empty arrays keep their shapes.
        let scalar = try NumPy.readNPY(path: Self.fixture("scalar.npy"))
        #expect(scalar.shape == [] && scalar.scalar == 3.25)
        #expect(try NumPy.readNPY(path: Self.fixture("empty.npy")).shape == [0, 3])
        // Fortran order: element [i, j, k] of np.asfortranarray(arange(24).reshape(2, 3, 4) * 0.5 - 3).
        let fortran = try NumPy.readNPY(path: Self.fixture("fortran_f4.npy"))
        #expect(fortran.shape == [2, 3, 4])
        #expect(fortran[1, 2, 3] == Float(23) * 0.5 - 3 && fortran[0, 1, 2] == Float(6) * 0.5 - 3)
        // Big-endian int16 and bool.
        #expect(try NumPy.readNPY(path: Self.fixture("big_i2.npy")).scalars == [1, -2, 300, -32768, 32767])
        #expect(try NumPy.readNPY(path: Self.fixture("dtype_b1.npy")).scalars == [1, 0, 1, 0, 0, 1])
        // int64 beyond 2^24 rounds like astype(np.float32).
        let i8 = try NumPy.readNPY(path: Self.fixture("dtype_i8.npy"))
        #expect(i8[0, 2] == Float(Int64(1) << 40) && i8[1, 1] == 16_777_216)
        // Versions 2.0 and 3.0 of the format.
        #expect(try Self.bytes("version2.npy")[6] == 2 && Self.bytes("version3.npy")[6] == 3)
        #expect(try NumPy.readNPY(path: Self.fixture("version3.npy")).scalars == [-7, 0, 9])
    }

    @Test func refusesObjectStructuredAndComplexArrays() throws {
        let object = Self.message { _ = try NumPy.readNPY(path: Self.fixture("object.npy")) }
        #expect(object.contains("object.npy") && object.contains("object array") && object.contains("refused"))
        let structured = Self.message { _ = try NumPy.readNPY(path: Self.fixture("structured.npy")) }
        #expect(structured.contains("structured arrays"))
        let complex = Self.message { _ = try NumPy.readNPY(path: Self.fixture("complex.npy")) }
        #expect(complex.contains("unsupported dtype '<c8' (complex)"))
    }

    @Test func everyTruncationOfAnNPYIsAnError() throws {
        let bytes = try Self.bytes("dtype_f4_random.npy")
        for length in 0..<bytes.count {
            let text = Self.message { _ = try NumPy.readNPY(data: Data(bytes[..<length]), name: "cut.npy") }
            #expect(text.hasPrefix("cut.npy: truncated"), "\(length) bytes: \(text)")
        }
        let trailing = Self.message { _ = try NumPy.readNPY(data: Data(bytes + [0]), name: "long.npy") }
        #expect(trailing.contains("1 trailing bytes"))
    }

    /// A .npy of version 1.0 with `header` (padded as numpy pads it) and `data`.
    static func npy(header: String, data: [UInt8] = [], major: UInt8 = 1) -> Data {
        var text = Array(header.utf8)
        text += repeatElement(UInt8(ascii: " "), count: 63 - (10 + text.count) % 64) + [UInt8(ascii: "\n")]
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0, UInt8(text.count & 0xff), UInt8(text.count >> 8)]
        bytes += text + data
        return Data(bytes)
    }

    @Test func malformedHeadersAreNamedErrors() throws {
        let four: [UInt8] = [0, 0, 128, 63]  // 1.0 as <f4
        let cases: [(String, String)] = [
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", ""),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "missing '}'"),
            ("{'descr': '<f4', 'fortran_order': False}", "has keys [\"descr\", \"fortran_order\"]"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "exactly 'descr'"),
            ("{'descr': 'xyz', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype 'xyz'"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", "not True or False"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "not a non-negative integer"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': 1, }", "'shape' is the integer 1"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", "fits 64 bits"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "too many elements"),
            ("{'descr': '<f4', 'fortran_order': True, 'shape': (0, 4294967296, 4294967296), }", "too many elements"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "structured arrays"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk", "after the value"),
            ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "nested more than 32 deep"),
            ("{'descr: '<f4'}", "expected ':'"),
            ("", "ends where a value belongs"),
            ("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "unknown name 'Maybe'"),
        ]
        for (header, problem) in cases {
            if problem.isEmpty {
                #expect(try NumPy.readNPY(data: Self.npy(header: header, data: four)).scalars == [1])
            } else {
                let text = Self.message { _ = try NumPy.readNPY(data: Self.npy(header: header, data: four), name: "h.npy") }
                #expect(text.hasPrefix("h.npy: ") && text.contains(problem), "\(header): \(text)")
            }
        }
        // Python 2 longs, double quotes, a list shape and a parenthesised (1) are accepted, as numpy does.
        let lenient = Self.npy(header: "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1L, (1)), }", data: four)
        #expect(try NumPy.readNPY(data: lenient).shape == [1, 1])

        let magic = Self.message { _ = try NumPy.readNPY(data: Data(Array("PK\u{3}\u{4} not an array".utf8)), name: "m.npy") }
        #expect(magic.contains("m.npy: bad magic"))
        let version = Self.message { _ = try NumPy.readNPY(data: Self.npy(header: "{}", major: 4), name: "v.npy") }
        #expect(version.contains("unsupported .npy format version 4.0"))
        let missing = Self.message { _ = try NumPy.readNPY(path: "/nonexistent/a.npy") }
        #expect(missing.hasPrefix("/nonexistent/a.npy: no such file"))
    }

    // MARK: .npz

    @Test(arguments: npzStems) func readsArchivesInOrder(stem: String) throws {
        let (expected, metadata) = try Self.expected()
        let orderText = try #require(metadata["npz_order"])
        let order = try #require(try JSONSerialization.jsonObject(with: Data(orderText.utf8)) as? [String: [String]])
        let names = try #require(order[stem])
        let arrays = try NumPy.readNPZ(path: Self.fixture(stem + ".npz"))
        #expect(arrays.map(\.name) == names)
        for (name, tensor) in arrays {
            let want = try #require(expected["\(stem).\(name)"])
            #expect(Self.same(tensor, want), "\(stem).\(name)")
        }
        let byName = try NumPy.loadNPZ(path: Self.fixture(stem + ".npz"))
        #expect(Set(byName.keys) == Set(names))
    }

    @Test func positionalAndKeywordNames() throws {
        #expect(try NumPy.readNPZ(path: Self.fixture("savez_positional.npz")).map(\.name) == ["arr_0", "arr_1", "arr_2"])
        let named = try NumPy.loadNPZ(path: Self.fixture("savez_named.npz"))
        #expect(named["bias"]?.scalars == [0.5, -0.5, 0.25] && named["step"]?.shape == [] && named["step"]?.scalar == 12)
    }

    /// The members' deflate streams, inflated with block counts.
    static func blockCounts(_ file: String) throws -> Inflate.BlockCounts {
        let bytes = try Self.bytes(file)
        return try bytes.withUnsafeBytes { raw in
            var total = Inflate.BlockCounts()
            for entry in try NumPy.centralDirectory(raw, path: file) {
                #expect(entry.method == 8)
                let local = entry.localHeaderOffset
                let start = local + 30 + Int(raw[local + 26]) + Int(raw[local + 27]) << 8
                    + Int(raw[local + 28]) + Int(raw[local + 29]) << 8
                let stream = UnsafeRawBufferPointer(rebasing: raw[start..<(start + entry.compressedSize)])
                let out = try Inflate.inflate(stream, expectedCount: entry.uncompressedSize, blocks: &total)
                #expect(out.count == entry.uncompressedSize)
            }
            return total
        }
    }

    @Test func compressedFixturesCoverEveryBlockType() throws {
        let large = try Self.blockCounts("compressed_large.npz")
        #expect(large.dynamic > 0 && large.stored > 0, "\(large)")
        let small = try Self.blockCounts("compressed_small.npz")
        #expect(small.fixed > 0, "\(small)")
    }

    @Test func inflateAndCRCEdgeCases() throws {
        let check = Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) }
        #expect(check == 0xCBF4_3926)
        func inflate(_ bytes: [UInt8], limit: Int? = nil) throws -> [UInt8] {
            try bytes.withUnsafeBytes { try Inflate.inflate($0, expectedCount: limit) }
        }
        // A final stored block holding "hi", and a final fixed block holding "a" (zlib's output).
        #expect(try inflate([0x01, 0x02, 0x00, 0xfd, 0xff, 0x68, 0x69]) == Array("hi".utf8))
        #expect(try inflate([0x4b, 0x04, 0x00]) == Array("a".utf8))
        // A fixed block with a back-reference: "aaaaaaaaaa" (zlib.compressobj(wbits=-15)).
        #expect(try inflate([0x4b, 0x4c, 0x84, 0x01, 0x00]) == Array(repeating: UInt8(ascii: "a"), count: 10))
        let failures: [([UInt8], Int?, String)] = [
            ([], nil, "truncated"),
            ([0x07], nil, "block type 3"),
            ([0x01, 0x02, 0x00, 0xfd, 0xfe, 0x68, 0x69], nil, "does not match its complement"),
            ([0x01, 0x02, 0x00, 0xfd, 0xff, 0x68], nil, "stored block ends early"),
            ([0x01, 0x02, 0x00, 0xfd, 0xff, 0x68, 0x69], 1, "more than the 1 bytes"),
            ([0x4b, 0x4c, 0x84, 0x01, 0x00], 5, "more than the 5 bytes"),
            ([0x4b, 0x04], nil, "truncated"),
            ([0x03, 0x02, 0x00], nil, "reaches before the start"),  // fixed block: a match first
        ]
        for (bytes, limit, problem) in failures {
            do {
                _ = try inflate(bytes, limit: limit)
                Issue.record("\(bytes) inflated")
            } catch {
                #expect("\(error)".contains(problem), "\(bytes): \(error)")
            }
        }
    }

    /// Offset of the first member's data in a stored archive written by np.savez.
    static func firstDataOffset(_ bytes: [UInt8]) -> Int {
        30 + Int(bytes[26]) + Int(bytes[27]) << 8 + Int(bytes[28]) + Int(bytes[29]) << 8
    }

    /// Offset of the central directory, from the end record (np.savez writes no comment and no
    /// ZIP64 end record).
    static func centralOffset(_ bytes: [UInt8]) -> Int {
        let field = bytes.count - 22 + 16
        return (0..<4).reduce(0) { $0 | Int(bytes[field + $1]) << (8 * $1) }
    }

    @Test func corruptArchivesAreNamedErrors() throws {
        let original = try Self.bytes("savez_positional.npz")

        var flipped = original
        flipped[Self.firstDataOffset(original) + 130] ^= 0x40
        let crc = Self.message { _ = try NumPy.readNPZ(path: Self.write(flipped)) }
        #expect(crc.contains("member 'arr_0.npy': CRC-32 mismatch"), "\(crc)")

        let central = Self.centralOffset(original)
        var method = original
        method[central + 10] = 12
        #expect(Self.message { _ = try NumPy.readNPZ(path: Self.write(method)) }.contains("compression method 12 is not supported"))
        var encrypted = original
        encrypted[central + 8] |= 1
        #expect(Self.message { _ = try NumPy.readNPZ(path: Self.write(encrypted)) }.contains("member 'arr_0.npy': is encrypted"))
        var renamed = original
        renamed[30] = UInt8(ascii: "X")  // the local header's copy of the name
        #expect(Self.message { _ = try NumPy.readNPZ(path: Self.write(renamed)) }.contains("names another file"))
        var signature = original
        signature[central] = 0
        #expect(Self.message { _ = try NumPy.readNPZ(path: Self.write(signature)) }.contains("central directory entry 0"))

        #expect(Self.message { _ = try NumPy.readNPZ(path: Self.write(Array(repeating: 7, count: 100))) }
            .contains("bad magic: not a ZIP archive"))
        let truncated = Self.message { _ = try NumPy.readNPZ(path: Self.write(Array(original.dropLast(5)))) }
        #expect(truncated.contains("truncated"), "\(truncated)")
        #expect(Self.message { _ = try NumPy.readNPZ(path: "/nonexistent/a.npz") }.contains("no such file"))

        // A member whose content is not an array is named.
        var notArray = try Self.bytes("savez_named.npz")
        notArray[Self.firstDataOffset(notArray)] = 0x92
        let magic = Self.message { _ = try NumPy.readNPZ(path: Self.write(notArray)) }
        #expect(magic.contains("member 'weights.npy'"))

        // Flipping bits inside a deflate stream is caught by the decoder or by the CRC.
        let compressed = try Self.bytes("compressed_small.npz")
        var broken = compressed
        broken[Self.firstDataOffset(compressed) + 3] ^= 0xff
        let deflate = Self.message { _ = try NumPy.readNPZ(path: Self.write(broken)) }
        #expect(deflate.contains("member 'arr_0.npy'") && (deflate.contains("corrupt") || deflate.contains("CRC-32")), "\(deflate)")
    }

    @Test func everyTruncationOfAnArchiveIsAnError() throws {
        let bytes = try Self.bytes("savez_named.npz")
        for length in stride(from: 0, to: bytes.count, by: 3) {
            _ = Self.message { _ = try NumPy.readNPZ(path: Self.write(Array(bytes[..<length]))) }
        }
    }

    /// Random byte changes never crash the reader: each read returns arrays or throws a file error.
    @Test(arguments: ["savez_positional.npz", "compressed_small.npz", "compressed_large.npz", "zip64.npz", "fortran_big_f8.npy"])
    func randomCorruptionNeverCrashes(file: String) throws {
        let original = try Self.bytes(file)
        var generator = SeededGenerator(seed: 99)
        let rounds = file == "compressed_large.npz" ? 40 : 400
        for round in 0..<rounds {
            var bytes = original
            for _ in 0..<(1 + round % 3) {
                let index = Int(generator.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            if round % 7 == 0 { bytes.removeLast(Int(generator.next() % UInt64(bytes.count))) }
            do {
                if file.hasSuffix(".npy") {
                    _ = try NumPy.readNPY(data: Data(bytes))
                } else {
                    _ = try bytes.withUnsafeBytes { try NumPy.parseNPZ($0, path: file) }
                }
            } catch let error as RecurrentError {
                guard case .file = error else {
                    Issue.record("round \(round): \(error)")
                    continue
                }
            }
        }
    }

    // MARK: Writing

    @Test func writesTheBytesNumPyWrites() throws {
        for file in ["dtype_f4_random.npy", "dtype_f4.npy", "empty.npy", "long_header.npy"] {
            let tensor = try NumPy.readNPY(path: Self.fixture(file))
            #expect([UInt8](NumPy.writeNPY(tensor)) == (try Self.bytes(file)), "\(file)")
        }
        let scalar = NumPy.writeNPY(Tensor(scalar: 3.25))
        #expect(scalar.count % 64 == 4 && String(decoding: scalar[10..<70], as: UTF8.self).contains("'shape': ()"))
    }

    @Test(arguments: [false, true]) func npzRoundTrip(zip64: Bool) throws {
        var generator = SeededGenerator(seed: 3)
        let arrays: [(String, Tensor)] = [
            ("weights", try Tensor(shape: [4, 5], scalars: (0..<20).map { _ in generator.nextNormal() })),
            ("special", Tensor([0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude])),
            ("scalar", Tensor(scalar: -2)),
            ("empty", Tensor.zeros([0, 3])),
            ("größe ✓", Tensor([1, 2])),
            ("arr_0", Tensor.ones([2, 1, 2])),
        ]
        let path = try Self.temporaryDirectory() + "/round.npz"
        if zip64 {
            try Data(NumPy.encodeNPZ(arrays, path: path, forceZip64: true)).write(to: URL(fileURLWithPath: path))
        } else {
            try NumPy.writeNPZ(arrays, to: path)
        }
        let read = try NumPy.readNPZ(path: path)
        #expect(read.map(\.name) == arrays.map(\.0))
        for ((_, want), (name, got)) in zip(arrays, read) {
            #expect(Self.same(got, want), "\(name)")
        }
        // Writing again gives the same bytes (fixed timestamps), and nothing is left beside the file.
        if !zip64 {
            let again = path + ".2"
            try NumPy.writeNPZ(read.map { ($0.name, $0.tensor) }, to: again)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: again)))
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["round.npz", "round.npz.2"])
        }
    }

    @Test func writeNPZRefusesDuplicateAndEmptyNames() throws {
        let path = try Self.temporaryDirectory() + "/bad.npz"
        let duplicate = Self.message { try NumPy.writeNPZ([("a", Tensor([1])), ("a", Tensor([2]))], to: path) }
        #expect(duplicate.contains("two arrays are both named 'a'"))
        #expect(Self.message { try NumPy.writeNPZ([("", Tensor([1]))], to: path) }.contains("empty name"))
        #expect(!FileManager.default.fileExists(atPath: path))
        let unwritable = Self.message { try NumPy.writeNPZ([("a", Tensor([1]))], to: "/nonexistent/dir/a.npz") }
        #expect(unwritable.hasPrefix("/nonexistent/dir/a.npz: cannot write"))
    }

    // MARK: Model fixtures

    /// The Keras weight archives of `Fixtures/models` (np.savez of model.get_weights()) read back.
    @Test func readsKerasWeightArchives() throws {
        let lstm = try NumPy.readNPZ(path: Self.fixture("keras_lstm.npz", folder: "models"))
        #expect(lstm.map(\.name) == ["arr_0", "arr_1", "arr_2", "arr_3", "arr_4"])
        #expect(lstm.map(\.tensor.shape) == [[5, 256], [64, 256], [256], [64, 1], [1]])
        let bidirectional = try NumPy.readNPZ(path: Self.fixture("keras_bidirectional.npz", folder: "models"))
        #expect(bidirectional.reduce(0) { $0 + $1.tensor.count } == 35969)
    }
}
