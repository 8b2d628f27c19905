/// A small hand-written scanner and parser for `TimeExpression` text.
struct TimeExpressionParser {
    enum TokenKind: Equatable {
        case word(String)
        case literal(String)
        case plus, minus
        case end
    }

    struct Token {
        var kind: TokenKind
        var offset: Int
        var text: String {
            switch kind {
            case let .word(text), let .literal(text): text
            case .plus: "+"
            case .minus: "-"
            case .end: "end of text"
            }
        }
    }

    private let scalars: [Unicode.Scalar]
    private var tokens: [Token] = []
    private var position = 0
    private var scanError: TimeExpressionError?

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        scan()
    }

    static func isWordStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    static func isWordPart(_ c: Unicode.Scalar) -> Bool {
        isWordStart(c) || isDigit(c) || c == "-" || c == "."
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    private mutating func scan() {
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" {
                i += 1
            } else if c == "+" || c == "-" {
                tokens.append(Token(kind: c == "+" ? .plus : .minus, offset: i))
                i += 1
            } else if Self.isDigit(c) {
                // Dates, times, amounts; a date and time may go on with seconds, a fraction,
                // and `Z` or an offset `+08:00` (a '+' right after a time is its offset).
                let start = i
                var isDateTime = false
                while i < scalars.count {
                    let d = scalars[i]
                    if d == "T" { isDateTime = true }
                    let part = Self.isDigit(d) || d == "-" || d == ":" || d == "T"
                        || (isDateTime && (d == "." || d == "Z" || (d == "+" && i + 1 < scalars.count && Self.isDigit(scalars[i + 1]))))
                    guard part else { break }
                    i += 1
                }
                tokens.append(Token(kind: .literal(String(String.UnicodeScalarView(scalars[start..<i]))), offset: start))
            } else if Self.isWordStart(c) {
                let start = i
                while i < scalars.count, Self.isWordPart(scalars[i]) { i += 1 }
                tokens.append(Token(kind: .word(String(String.UnicodeScalarView(scalars[start..<i]))), offset: start))
            } else {
                scanError = TimeExpressionError(offset: i, "unexpected character '\(c)'; expected a date, a parameter, 'start', 'steps.<id>.done', '+', '-', 'at' or an adjustment")
                return
            }
        }
        tokens.append(Token(kind: .end, offset: scalars.count))
    }

    private var current: Token { tokens[position] }

    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    mutating func parseExpression() throws(TimeExpressionError) -> TimeExpression {
        if let scanError { throw scanError }
        let base = try parseBase()
        var expression = TimeExpression(base: base)
        while current.kind == .plus || current.kind == .minus {
            let negative = current.kind == .minus
            try requireSpaces(around: current)
            advance()
            var offset = try parseAmountAndUnit(allowSetting: true)
            if negative { offset.amount = -offset.amount; offset.negative = offset.setting != nil }
            expression.offsets.append(offset)
        }
        var sawAt = false
        while case let .word(word) = current.kind {
            if word == "at", !sawAt, expression.adjustment == nil {
                sawAt = true
                advance()
                guard case let .literal(text) = current.kind, let time = TimeOfDay(text) else {
                    throw TimeExpressionError(offset: current.offset, "expected a time of day HH:MM after 'at', found '\(current.text)'")
                }
                if case .dateTime = base {
                    throw TimeExpressionError(offset: current.offset, "a date-time literal already has a time; expected no 'at' after it (or write the date alone)")
                }
                expression.timeOfDay = time
                advance()
            } else if let adjustment = DateAdjustment(rawValue: word), expression.adjustment == nil {
                expression.adjustment = adjustment
                advance()
            } else {
                break
            }
        }
        guard current.kind == .end else {
            throw TimeExpressionError(offset: current.offset, "unexpected '\(current.text)'; expected \(expectedAfter(expression))")
        }
        return expression
    }

    private func expectedAfter(_ expression: TimeExpression) -> String {
        var choices = ["'+ N unit'", "'- N unit'"]
        if expression.timeOfDay == nil && expression.adjustment == nil { choices.append("'at HH:MM'") }
        if expression.adjustment == nil { choices.append(DateAdjustment.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")) }
        return choices.joined(separator: ", ") + " or the end"
    }

    private mutating func parseBase() throws(TimeExpressionError) -> TimeExpression.Base {
        let token = current
        switch token.kind {
        case let .literal(text):
            advance()
            if let date = CivilDate(text) { return .date(date) }
            if let dateTime = LocalDateTime(text) { return .dateTime(dateTime) }
            throw TimeExpressionError(offset: token.offset, "'\(text)' is not a valid date or date-time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM (optionally with :SS, .mmm and Z or ±HH:MM)")
        case let .word(word):
            advance()
            if word == "start" { return .start }
            if word.hasPrefix("steps.") || word == "steps" {
                let parts = word.split(separator: ".", omittingEmptySubsequences: false)
                if parts.count == 4, parts[2] == "fields", RoleReference.isIdentifier(String(parts[1])), RoleReference.isIdentifier(String(parts[3])) {
                    return .stepFieldDate(step: String(parts[1]), field: String(parts[3]))
                }
                guard parts.count == 3, parts[2] == "done", RoleReference.isIdentifier(String(parts[1])) else {
                    throw TimeExpressionError(offset: token.offset, "'\(word)' is not a step completion; expected steps.<step-id>.done or steps.<step-id>.fields.<date-field>")
                }
                return .stepDone(String(parts[1]))
            }
            guard Self.isParameterName(word) else {
                let hint = word.contains("-") ? " (put spaces around '+' and '-')" : ""
                throw TimeExpressionError(offset: token.offset, "'\(word)' is not a parameter name\(hint); expected a date, a date parameter, 'start' or steps.<id>.done")
            }
            return .param(word)
        case .end:
            throw TimeExpressionError(offset: token.offset, "empty time expression; expected a date, a date parameter, 'start' or steps.<id>.done")
        case .plus, .minus:
            throw TimeExpressionError(offset: token.offset, "expected a date, a date parameter, 'start' or steps.<id>.done before '\(token.text)'")
        }
    }

    /// `+` and `-` between the parts of an expression stand apart from them, as the language
    /// documents (`day + 1 day`, not `day+1 day`: `-` is also part of dates and step ids).
    private func requireSpaces(around token: Token) throws(TimeExpressionError) {
        let isSpace = { (c: Unicode.Scalar) in c == " " || c == "\t" }
        let spaceBefore = token.offset > 0 && isSpace(scalars[token.offset - 1])
        let spaceAfter = token.offset + 1 < scalars.count && isSpace(scalars[token.offset + 1])
        guard spaceBefore && spaceAfter else {
            throw TimeExpressionError(offset: token.offset, "'\(token.text)' needs a space on each side; expected such as 'start \(token.text) 1 day'")
        }
    }

    /// `20 days`, `1 workday`.
    private mutating func parseAmountAndUnit(allowSetting: Bool = false) throws(TimeExpressionError) -> TimeOffset {
        // settings.<name>: an amount the deployment sets (huaying.yaml), such as the province's
        // candidate-list lead time.
        if allowSetting, case let .word(word) = current.kind, word.hasPrefix("settings.") {
            let name = String(word.dropFirst("settings.".count))
            guard Self.isParameterName(name) else {
                throw TimeExpressionError(offset: current.offset, "'\(word)' is not a setting; expected settings.<name>, such as settings.candidate_list_lead_days")
            }
            advance()
            guard case let .word(unitWord) = current.kind, let unit = TimeUnit(word: unitWord) else {
                throw TimeExpressionError(offset: current.offset, "expected a unit (\(TimeUnit.allCases.map(\.rawValue).joined(separator: ", "))) after \(word), found '\(current.text)'")
            }
            advance()
            var offset = TimeOffset(amount: 0, unit: unit)
            offset.setting = name
            return offset
        }
        guard case let .literal(text) = current.kind, let amount = Int(text), amount >= 0, text.count <= 6 else {
            throw TimeExpressionError(offset: current.offset, "expected a whole number after '+' or '-', found '\(current.text)'")
        }
        advance()
        guard case let .word(word) = current.kind, let unit = TimeUnit(word: word) else {
            throw TimeExpressionError(offset: current.offset, "expected a unit (\(TimeUnit.allCases.map(\.rawValue).joined(separator: ", "))) after \(amount), found '\(current.text)'")
        }
        advance()
        return TimeOffset(amount: amount, unit: unit)
    }

    mutating func parseDuration(allowNegative: Bool) throws(TimeExpressionError) -> TimeOffset {
        if let scanError { throw scanError }
        var negative = false
        if current.kind == .minus && allowNegative {
            negative = true
            advance()
        } else if current.kind == .plus {
            advance()
        }
        guard case .literal = current.kind else {
            let sign = allowNegative ? "a whole number (may be negative)" : "a whole number"
            throw TimeExpressionError(offset: current.offset, "expected a duration such as '2 days' or '1 workday': \(sign), then a unit; found '\(current.text)'")
        }
        var offset = try parseAmountAndUnit()
        if negative { offset.amount = -offset.amount }
        guard current.kind == .end else {
            throw TimeExpressionError(offset: current.offset, "unexpected '\(current.text)' after the duration; expected one amount and unit, such as '2 days'")
        }
        return offset
    }

    /// Parameter names: a letter or `_`, then letters, digits and `_`.
    static func isParameterName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isWordStart(first) else { return false }
        return text.unicodeScalars.allSatisfy { isWordStart($0) || isDigit($0) }
    }
}
