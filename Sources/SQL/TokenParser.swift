/// What both parsers (SQL and InfluxQL) do with their tokens: look at the current one, take a keyword, a symbol,
/// a name or an integer, and say where parsing stopped.
protocol TokenParser {
    var tokens: [Token] { get }
    var index: Int { get set }
    /// One condition of a WHERE, in the parser's own grammar.
    mutating func conditionTerm() throws(SQLError) -> SQLExpression
}

extension TokenParser {
    var current: Token { tokens[index] }
    /// The token after the current one (the current one when it is the last: the end).
    var next: Token { tokens[min(index + 1, tokens.count - 1)] }

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

    /// Conditions joined by OR, each of conditions joined by AND.
    mutating func orExpression() throws(SQLError) -> SQLExpression {
        var left = try andExpression()
        while keyword("OR") { left = .or(left, try andExpression()) }
        return left
    }

    mutating func andExpression() throws(SQLError) -> SQLExpression {
        var left = try conditionTerm()
        while keyword("AND") { left = .and(left, try conditionTerm()) }
        return left
    }

    mutating func alias() throws(SQLError) -> String? {
        guard keyword("AS") else { return nil }
        return try identifier("an alias")
    }

    /// `* 100`, `/ 1024 + 1`: arithmetic with numbers after a selected value (an `AS` may follow).
    mutating func mathSteps() throws(SQLError) -> [MathStep] {
        var steps: [MathStep] = []
        while case .symbol(let s) = current.kind, let operation = MathStep.Operation(rawValue: s) {
            index += 1
            let negative = symbol("-")
            guard case .number(let n) = current.kind, let value = Double(n) else {
                throw error("expected a number after '\(s)' (arithmetic between columns is not supported)")
            }
            index += 1
            steps.append(MathStep(operation, negative ? -value : value))
        }
        return steps
    }
}
