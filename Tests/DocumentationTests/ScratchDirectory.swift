import Foundation

/// The working directory is the process's: the tests that change it take turns.
private let workingDirectoryLock = NSLock()

/// Runs `body` in a scratch directory of its own as the working directory (the snippets write
/// files relative to it), then removes it.
func inScratchDirectory(_ body: (String) throws -> Void) throws {
    workingDirectoryLock.lock()
    defer { workingDirectoryLock.unlock() }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-docs-\(UUID())").path
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let previous = FileManager.default.currentDirectoryPath
    _ = FileManager.default.changeCurrentDirectoryPath(scratch)
    defer {
        _ = FileManager.default.changeCurrentDirectoryPath(previous)
        try? FileManager.default.removeItem(atPath: scratch)
    }
    try body(scratch)
}
