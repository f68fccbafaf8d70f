import Foundation
import Testing
@testable import Recurrent

/// CSVTable reads RFC 4180 and names file, line and column for each kind of bad input.
@Suite struct DataReaderTests {
    func table(_ text: String) throws -> CSVTable { try CSVTable(data: Data(text.utf8), path: "t.csv") }

    func problem(_ text: String) -> String {
        do {
            _ = try table(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func quotedFieldsWithCommasQuotesAndNewlines() throws {
        let t = try table("a,b\r\n1,\"x, \"\"y\"\"\nz\"\r\n\n2,\r\n")
        #expect(t.header == ["a", "b"])
        #expect(t.rows == [["1", "x, \"y\"\nz"], ["2", ""]])
        #expect(t.lines == [2, 5])
        #expect(try t.numbers(0) == [1, 2])
    }

    @Test func errorsNameLineAndColumn() {
        #expect(problem("a,b\n1,2\n3\n") == "t.csv: line 3: 1 fields where the header has 2")
        #expect(problem("a,b\n1,\"2\n3,4\n") == "t.csv: line 2, column 3: unterminated quoted field (no closing quote before the end of the file)")
        #expect(problem("a,b\n1,2\"\n") == "t.csv: line 2, column 4: a quote inside an unquoted field (quote the field and double the quote)")
        #expect(problem("") == "t.csv: the file is empty")
        #expect(problem("a,b\n") == "t.csv: no rows after the header")
        #expect(problem("a,a\n1,2\n") == "t.csv: line 1: column \"a\" appears twice in the header")
        #expect(throws: RecurrentError.file(path: "t.csv", problem: "line 3, column 2 (b): \"x\" is not a number")) {
            try table("a,b\n1,2\n3,x\n").numbers(1)
        }
    }

    @Test func invalidUTF8IsLocated() {
        var bytes = Array("a,b\n1,2\n3,".utf8)
        bytes += [0xC3, 0x28, 0x0A]
        #expect(throws: RecurrentError.file(path: "t.csv", problem: "line 3, column 3: invalid UTF-8")) {
            try CSVTable(data: Data(bytes), path: "t.csv")
        }
    }

    @Test func missingFile() {
        #expect(throws: RecurrentError.file(path: "/no/such.csv", problem: "cannot be read (no such file)")) {
            try CSVTable(path: "/no/such.csv")
        }
    }
}

/// The pooling layers against finite differences and against their definitions.
@Suite struct GlobalPoolingTests {
    @Test func maxAndMeanOverRealSteps() throws {
        let x = try Tensor(shape: [2, 3, 2], scalars: [1, -5, 3, 2, 9, 0, /**/ -1, -2, -3, 7, 4, 8])
        let mask = try Tensor(shape: [2, 3], scalars: [1, 1, 0, 1, 0, 0])
        #expect(try Variable(x).maxOverTime(mask: mask).value.scalars == [3, 2, -1, -2])
        #expect(try Variable(x).maxOverTime(mask: nil).value.scalars == [9, 2, 4, 8])
        #expect(try Variable(x).meanOverTime(mask: mask).value.scalars == [2, -1.5, -1, -2])
        let (out, outMask) = try GlobalAveragePooling1D().call(Variable(x), mask: mask)
        #expect(outMask == nil && out.shape == [2, 2])
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        var generator = SeededGenerator(seed: 4)
        let x = Tensor.randomNormal([3, 4, 5], generator: &generator)
        let mask = try Tensor(shape: [3, 4], scalars: [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0])
        try checkGradients([x]) { try $0[0].maxOverTime(mask: mask) }
        try checkGradients([x]) { try $0[0].meanOverTime(mask: mask) }
        try checkGradients([x]) { try $0[0].meanOverTime(mask: nil) }
    }
}
