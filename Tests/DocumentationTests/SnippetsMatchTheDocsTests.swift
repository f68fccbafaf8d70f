import Foundation
import Testing

/// Every Swift code block of the README and of the DocC catalogue is the text of a snippet in
/// this target (`// snippet: NAME` … `// end snippet`), which compiles and runs; and every
/// snippet is shown somewhere. Imports in a page's block stand for this file's imports; a
/// snippet line marked `// test only` is left out of the comparison.
@Suite struct SnippetsMatchTheDocsTests {
    struct Block: Hashable {
        let source: String, name: String, text: String
    }

    static func pages() throws -> [String] {
        let catalogue = Package.path("Sources/Recurrent/Recurrent.docc")
        let articles = try FileManager.default.contentsOfDirectory(atPath: catalogue).filter { $0.hasSuffix(".md") }.sorted()
        return [Package.path("README.md")] + articles.map { catalogue + "/" + $0 }
    }

    /// The ```swift blocks of a Markdown page.
    static func codeBlocks(of path: String) throws -> [Block] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        var blocks: [Block] = [], current: [String]?, start = 0
        for (number, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed == "```swift" {
                (current, start) = ([], number + 1)
            } else if current != nil, trimmed == "```" {
                let code = current!.filter { !$0.hasPrefix("import ") }
                blocks.append(Block(source: path, name: "line \(start)", text: normalised(code)))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    /// The snippets of this target's sources.
    static func snippets() throws -> [Block] {
        let folder = Package.path("Tests/DocumentationTests")
        var found: [Block] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".swift") }).sorted() {
            let lines = try String(contentsOfFile: folder + "/" + file, encoding: .utf8).components(separatedBy: "\n")
            var current: (name: String, lines: [String])?
            for line in lines {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("// snippet: ") {
                    current = (String(trimmed.dropFirst("// snippet: ".count)), [])
                } else if trimmed == "// end snippet", let snippet = current {
                    found.append(Block(source: file, name: snippet.name, text: normalised(snippet.lines)))
                    current = nil
                } else if current != nil, !line.hasSuffix("// test only") && !line.contains("// test only:") {
                    current!.lines.append(line)
                }
            }
        }
        return found
    }

    /// Without the common indentation, trailing spaces and blank lines at either end.
    static func normalised(_ lines: [String]) -> String {
        var lines = lines.map { String($0.reversed().drop { $0 == " " }.reversed()) }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        let indent = lines.filter { !$0.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return lines.map { $0.isEmpty ? $0 : String($0.dropFirst(indent)) }.joined(separator: "\n")
    }

    @Test func everyPageBlockIsACompiledSnippet() throws {
        let snippets = Set(try Self.snippets().map(\.text))
        for page in try Self.pages() {
            for block in try Self.codeBlocks(of: page) where !snippets.contains(block.text) {
                Issue.record("\(page), the Swift block at \(block.name), is not the text of any snippet in Tests/DocumentationTests:\n\(block.text)")
            }
        }
    }

    @Test func everySnippetIsShown() throws {
        let shown = Set(try Self.pages().flatMap { try Self.codeBlocks(of: $0) }.map(\.text))
        let snippets = try Self.snippets()
        #expect(snippets.count >= 20)
        for snippet in snippets where !shown.contains(snippet.text) {
            Issue.record("snippet \(snippet.name) (\(snippet.source)) is not shown on any page")
        }
        #expect(Set(snippets.map(\.name)).count == snippets.count, "snippet names are unique")
    }
}
