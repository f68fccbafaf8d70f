import Foundation
import Testing
@testable import Recurrent

/// Duplicate keys and deep nesting in the JSON of weight files and model directories.
@Suite struct JSONShapeTests {
    @Test func findsDuplicatesAndDepth() {
        #expect(JSONShape.problem(in: #"{"a": 1, "b": {"a": 2}}"#) == nil)
        #expect(JSONShape.problem(in: #"{"a": 1, "b": 2, "a": 3}"#) == "the key \"a\" appears twice in one object")
        #expect(JSONShape.problem(in: #"{"x": {"k": [1, {"k": 1, "k": 2}]}}"#) == "the key \"k\" appears twice in one object")
        #expect(JSONShape.problem(in: #"{"a\"b": 1, "c": "a\"b"}"#) == nil, "escaped quotes stay inside strings")
        #expect(JSONShape.problem(in: #"["a", "a", {"v": "a"}]"#) == nil, "values are not keys")
        #expect(JSONShape.problem(in: String(repeating: "[", count: 65) + String(repeating: "]", count: 65)) == "JSON nested more than 64 levels deep")
        #expect(JSONShape.problem(in: String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) == nil)
    }

    @Test func aSafetensorsHeaderWithATensorTwiceIsRefused() throws {
        let header = #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 8)
        #expect(message { _ = try SafeTensors.read(data: Data(bytes), name: "twice.safetensors") }
            == "twice.safetensors: header (bytes 8..<\(8 + header.utf8.count)): the key \"w\" appears twice in one object")
    }
}
