/// What both parsers (SQL and InfluxQL) do with their tokens: look at the current one, take a keyword, a symbol,
/// a name or an integer, and say where parsing stopped.
protocol TokenParser {
    var tokens: [Token] { get }
    var index: Int { get set }
}

extension TokenParser {
    var current: Token { tokens[index] }

    func error(_ message: String) -> SQLError { SQLError(message, at: current.position) }

    mutating func keyword(_ word: String) -> Bool {
        guard current.isKeyword(word) else { return false }
        index += 1
        return true
    }

    mutating func expectKeyword(_ word: String) throws(SQLError) {
        guard keyword(word) else { throw error("expected \(word)") }
    }

    mutating func symbol(_ s: String) -> Bool {
        guard case .symbol(s) = current.kind else { return false }
        index += 1
        return true
    }

    mutating func expectSymbol(_ s: String) throws(SQLError) {
        guard symbol(s) else { throw error("expected '\(s)'") }
    }

    /// A word or a quoted identifier.
    mutating func identifier(_ what: String) throws(SQLError) -> String {
        switch current.kind {
        case .word(let w), .quotedIdentifier(let w):
            index += 1
            return w
        default: throw error("expected \(what)")
        }
    }

    mutating func integer(_ what: String) throws(SQLError) -> Int {
        guard case .number(let n) = current.kind, let value = Int(n), value >= 0 else {
            throw error("expected \(what) (a non-negative integer)")
        }
        index += 1
        return value
    }
}
