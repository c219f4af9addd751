import Foundation

/// An escalation level's SLA as admins type it: `90s`, `30m`, `1h30m`, `2d`, `1d12h`.
///
/// A duration is one or more parts, each a positive whole number and a unit, with the units `d`, `h`, `m`, `s`
/// in that order, each at most once, and no spaces. It lies in ``range``: 1 second to 30 days.
public enum ChainDuration {
    /// The SLAs a level may have: 1 second to 30 days, in seconds.
    public static let range: ClosedRange<TimeInterval> = 1...2_592_000

    /// The units, largest first: the order they must be written in.
    static let units: [(symbol: Character, seconds: Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    /// The seconds `text` stands for; refused with a reason when it breaks any rule above.
    public static func parse(_ text: String) throws(ChainDurationError) -> TimeInterval {
        let parts = try split(text)
        var lastIndex = -1
        for part in parts {
            if part.unitIndex == lastIndex {
                throw .repeatedUnit(text, unit: units[part.unitIndex].symbol, suggestion: suggestion(for: parts))
            }
            if part.unitIndex < lastIndex {
                throw .unitsOutOfOrder(text, suggestion: suggestion(for: parts))
            }
            lastIndex = part.unitIndex
        }
        let total = total(of: parts)
        if total < range.lowerBound { throw .tooShort(text) }
        if total > range.upperBound { throw .tooLong(text) }
        if parts.contains(where: { $0.count == 0 }) {
            throw .zeroPart(text, suggestion: suggestion(for: parts) ?? format(total))
        }
        return total
    }

    /// A time span to read at a glance (an age, the time to a deadline): to the second under an hour, to the minute
    /// beyond (`23h59m`, not `23h59m59s`).
    public static func glance(_ seconds: TimeInterval) -> String {
        format(seconds >= 3600 ? (seconds / 60).rounded(.down) * 60 : seconds)
    }

    /// The shortest text that ``parse(_:)`` reads back as `seconds` (rounded to whole seconds; `0s` below one),
    /// among the forms a person reads at a glance: every part after the first below its next larger unit, the first
    /// under 100.
    ///
    /// Ties go to the form that starts with the larger unit: `2h1m`, not `121m`.
    public static func format(_ seconds: TimeInterval) -> String {
        let total = seconds.isFinite ? max(0, Int(seconds.rounded())) : 0
        if total == 0 { return "0s" }
        var best: (text: String, leadingUnit: Int)?
        // Every subset of units, each filled greedily from the largest: the shortest form is among these.
        for mask in 1..<(1 << units.count) {
            let chosen = units.indices.filter { mask & (1 << $0) != 0 }
            guard let smallest = chosen.last, total % units[smallest].seconds == 0 else { continue }
            var remainder = total
            var text = ""
            var complete = true
            for (position, index) in chosen.enumerated() {
                let count = remainder / units[index].seconds
                // Only the first part may run over its next larger unit (`90m`, `36h`), and by two digits at most:
                // `25h61s` and `93784s` are short but nobody reads them at a glance.
                let limit = position == 0 ? 100 : units[index - 1].seconds / units[index].seconds
                if count == 0 || count >= limit {
                    complete = false
                    break
                }
                remainder -= count * units[index].seconds
                text += "\(count)\(units[index].symbol)"
            }
            guard complete, remainder == 0, let leading = chosen.first else { continue }
            if let current = best,
                current.text.count < text.count || (current.text.count == text.count && current.leadingUnit <= leading)
            {
                continue
            }
            best = (text, leading)
        }
        return best?.text ?? "\(total)s"
    }

    struct Part {
        var count: Int
        var unitIndex: Int
    }

    /// Any count above this is over 30 days in every unit; stops reading digits before they overflow.
    static let countCeiling = 10_000_000

    /// The parts in the order written, or the first mistake in their spelling.
    static func split(_ text: String) throws(ChainDurationError) -> [Part] {
        if text.isEmpty { throw .empty }
        var parts: [Part] = []
        var count: Int?
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                count = min(Self.countCeiling, (count ?? 0) * 10 + digit)
                continue
            }
            if character.isWhitespace { throw .containsSpace(text) }
            if let unitIndex = units.firstIndex(where: { $0.symbol == character }) {
                guard let value = count else { throw .noNumber(text, unit: character) }
                parts.append(Part(count: value, unitIndex: unitIndex))
                count = nil
                continue
            }
            if character == "." || character == "," {
                throw .notWhole(text)
            }
            if let suggestion = spelledOut(text) { throw .spelledOutUnit(text, suggestion: suggestion) }
            throw .notAUnit(text, character)
        }
        if count != nil { throw .noUnit(text) }
        return parts
    }

    /// `30m` for `30min`, `2h` for `2 hours`: a number and a unit spelled out, as people write them.
    static func spelledOut(_ text: String) -> String? {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        let word = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let symbols: [Character: [String]] = [
            "d": ["day", "days"], "h": ["hr", "hrs", "hour", "hours"], "m": ["min", "mins", "minute", "minutes"],
            "s": ["sec", "secs", "second", "seconds"],
        ]
        guard let count = Int(digits), let symbol = symbols.first(where: { $0.value.contains(word) })?.key else { return nil }
        let written = "\(count)\(symbol)"
        return (try? parse(written)) != nil ? written : nil
    }

    static func total(of parts: [Part]) -> TimeInterval {
        TimeInterval(parts.reduce(0) { $0 + min(countCeiling, $1.count) * units[$1.unitIndex].seconds })
    }

    /// What was written, put right: parts merged per unit, in order, zeros dropped (`1m1h` → `1h1m`); `nil` when
    /// the total is out of range anyway.
    static func suggestion(for parts: [Part]) -> String? {
        guard range.contains(total(of: parts)) else { return nil }
        return units.indices.compactMap { index in
            let count = parts.filter { $0.unitIndex == index }.reduce(0) { $0 + $1.count }
            return count == 0 ? nil : "\(count)\(units[index].symbol)"
        }.joined()
    }
}

/// Why a duration was refused; ``reason`` completes a sentence that starts with the quoted text.
public enum ChainDurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing was written.
    case empty
    /// A blank inside, as in `1h 30m`.
    case containsSpace(String)
    /// A number with no unit after it, as in `30`.
    case noUnit(String)
    /// A unit with no number before it, as in `m`.
    case noNumber(String, unit: Character)
    /// A character that is neither a digit nor a unit, as in `1x`.
    case notAUnit(String, Character)
    /// A unit written as a word, as in `30min`.
    case spelledOutUnit(String, suggestion: String)
    /// A decimal point, as in `1.5h`.
    case notWhole(String)
    /// The same unit twice, as in `1h1h`.
    case repeatedUnit(String, unit: Character, suggestion: String?)
    /// Units not in the order d, h, m, s, as in `1m1h`.
    case unitsOutOfOrder(String, suggestion: String?)
    /// A part of zero next to others, as in `0h30m`.
    case zeroPart(String, suggestion: String)
    /// Under one second, as in `0s`.
    case tooShort(String)
    /// Over thirty days, as in `31d`.
    case tooLong(String)

    /// The text refused.
    public var text: String {
        switch self {
        case .empty: ""
        case .containsSpace(let text), .noUnit(let text), .noNumber(let text, _), .notAUnit(let text, _),
            .spelledOutUnit(let text, _), .notWhole(let text), .repeatedUnit(let text, _, _), .unitsOutOfOrder(let text, _),
            .zeroPart(let text, _),
            .tooShort(let text), .tooLong(let text):
            text
        }
    }

    /// What is wrong and how to write it, to follow the quoted text: "has no unit; add d, h, m or s, like `30m`".
    public var reason: String {
        switch self {
        case .empty:
            return "is empty; write a duration like `30m`, `1h30m` or `2d`"
        case .containsSpace(let text):
            return "has a space in it; write it as one word, like `\(text.filter { !$0.isWhitespace })`"
        case .noUnit(let text):
            // A bare number: which unit was meant is a guess (seconds in many config files, minutes in a chat), so
            // show both rather than suggest one that may be 60 times off.
            guard text.allSatisfy(\.isNumber) else { return "has no unit; add d, h, m or s, like `\(text)m`" }
            return "has no unit; add d, h, m or s: `\(text)s` is \(text) seconds, `\(text)m` \(text) minutes"
        case .noNumber(_, let unit):
            return "needs a number before `\(unit)`, like `30\(unit)`"
        case .notAUnit(let text, let character):
            let lowered = text.lowercased()
            if character.isUppercase, (try? ChainDuration.parse(lowered)) != nil {
                return "has an uppercase unit; write `\(lowered)`"
            }
            return "has `\(character)`, which is not a unit; use d, h, m or s, like `1h30m`"
        case .spelledOutUnit(_, let suggestion):
            return "spells out its unit; write `\(suggestion)`"
        case .notWhole:
            return "is not a whole number; use a smaller unit, like `1h30m` for an hour and a half"
        case .repeatedUnit(_, let unit, let suggestion):
            return "uses `\(unit)` twice; " + (suggestion.map { "write `\($0)`" } ?? "use each unit once")
        case .unitsOutOfOrder(_, let suggestion):
            return "has its units out of order; they go d, h, m, s"
                + (suggestion.map { ", so write `\($0)`" } ?? ", like `1d12h`")
        case .zeroPart(_, let suggestion):
            return "has a zero part; write `\(suggestion)`"
        case .tooShort:
            return "is under 1 second; the shortest is `1s`"
        case .tooLong:
            return "is over 30 days; the longest is `30d`"
        }
    }

    /// One sentence: "`30` has no unit; add d, h, m or s, like `30m`."
    public var description: String {
        if case .empty = self { return "The duration " + reason + "." }
        return "`\(text)` \(reason)."
    }
}
