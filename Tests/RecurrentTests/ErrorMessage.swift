/// The description of the error `body` throws ("no error" when it throws none): what a user
/// would read.
func message(_ body: () throws -> Void) -> String {
    do { try body() } catch { return String(describing: error) }
    return "no error"
}
