import Foundation

/// A CSV file read whole (RFC 4180: comma-separated, fields optionally in double quotes, `""`
/// for a quote inside one, CRLF or LF line ends). The first record is the header.
///
/// Every problem is an error naming the file, line and column: a ragged row, an unterminated
/// quote, a stray quote, invalid UTF-8, an empty file, a non-numeric cell asked for as a number.
public struct CSVTable: Sendable {
    public let path: String
    public let header: [String]
    /// The records after the header, each as long as the header.
    public let rows: [[String]]
    /// The line each row starts on (from 1, the header being line 1).
    public let lines: [Int]

    public init(path: String) throws {
        try self.init(text: try readTextFile(path), path: path)
    }

    public init(data: Data, path: String) throws {
        try self.init(text: try decodeUTF8(data, path: path), path: path)
    }

    private init(text: String, path: String) throws {
        self.path = path
        var records = try Self.parse(Array(text.unicodeScalars), path: path)
        guard !records.isEmpty else { throw RecurrentError.file(path: path, problem: "the file is empty") }
        let (headerLine, header) = records.removeFirst()
        if let duplicate = Dictionary(grouping: header, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw RecurrentError.file(path: path, problem: "line \(headerLine): column \"\(duplicate)\" appears twice in the header")
        }
        for (line, fields) in records where fields.count != header.count {
            throw RecurrentError.file(
                path: path,
                problem: "line \(line): \(fields.count) fields where the header has \(header.count)")
        }
        guard !records.isEmpty else { throw RecurrentError.file(path: path, problem: "no rows after the header") }
        self.header = header
        rows = records.map(\.1)
        lines = records.map(\.0)
    }

    /// The index of a column, or an error listing the columns there are.
    public func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw RecurrentError.file(
                path: path, problem: "no column \"\(name)\" (columns: \(header.joined(separator: ", ")))")
        }
        return index
    }

    /// One column as numbers; a cell that is not a finite number is an error at its line and column.
    public func numbers(_ column: Int) throws -> [Float] {
        try rows.indices.map { try number(row: $0, column: column) }
    }

    public func number(row: Int, column: Int) throws -> Float {
        let cell = rows[row][column].trimmingCharacters(in: .whitespaces)
        guard let value = Float(cell), value.isFinite else {
            throw RecurrentError.file(
                path: path,
                problem: "line \(lines[row]), column \(column + 1) (\(header[column])): \"\(rows[row][column])\" is not a number")
        }
        return value
    }

    /// Whether every cell of a column is a number.
    public func isNumeric(_ column: Int) -> Bool {
        rows.allSatisfy { Float($0[column].trimmingCharacters(in: .whitespaces))?.isFinite == true }
    }

    // MARK: Parsing

    private static func parse(_ s: [Unicode.Scalar], path: String) throws -> [(Int, [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = [], field = String.UnicodeScalarView()
        var line = 1, column = 1, recordLine = 1
        var i = 0
        var atFieldStart = true, quoted = false, quoteLine = 0, quoteColumn = 0, afterQuote = false
        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            atFieldStart = true
            afterQuote = false
        }
        func endRecord() {
            endField()
            // A blank line is no record.
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields = []
        }
        while i < s.count {
            let c = s[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < s.count, s[i + 1] == "\"" {
                        field.append("\"")
                        i += 2; column += 2
                        continue
                    }
                    quoted = false
                    afterQuote = true
                } else {
                    field.append(c)
                    if c == "\n" { line += 1; column = 0 }
                }
                i += 1; column += 1
                continue
            }
            switch c {
            case ",":
                endField()
            case "\r" where i + 1 < s.count && s[i + 1] == "\n":
                i += 1
                fallthrough
            case "\n", "\r":
                endRecord()
                line += 1
                column = 0
                recordLine = line
            case "\"" where atFieldStart:
                quoted = true
                quoteLine = line; quoteColumn = column
                atFieldStart = false
            case "\"":
                throw RecurrentError.file(
                    path: path, problem: "line \(line), column \(column): a quote inside an unquoted field (quote the field and double the quote)")
            default:
                if afterQuote {
                    throw RecurrentError.file(
                        path: path, problem: "line \(line), column \(column): text after the closing quote of a field")
                }
                field.append(c)
                atFieldStart = false
            }
            i += 1; column += 1
        }
        if quoted {
            throw RecurrentError.file(
                path: path, problem: "line \(quoteLine), column \(quoteColumn): unterminated quoted field (no closing quote before the end of the file)")
        }
        if !(fields.isEmpty && field.isEmpty && atFieldStart) { endRecord() }
        return records
    }
}
