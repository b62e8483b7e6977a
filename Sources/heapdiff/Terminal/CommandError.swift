/// A failure of a subcommand, shown as one `heapdiff: error:` line.
struct CommandError: Error {
    /// Exit status for bad usage or bad input.
    static let badInput: Int32 = 2

    var message: String
    var status: Int32 = CommandError.badInput
}
