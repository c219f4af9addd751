import Foundation

/// Who decides a gate's requests, and what happens when they don't: ordered levels of approvers, each with an SLA,
/// then a final action.
///
/// Pure value: the scheduler keeps each request's level, when that level started and the next deadline, and asks
/// ``step(level:risk:levelStartedAt:now:expiresAt:)`` what to do when that deadline comes.
public struct EscalationChain: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Someone who may decide: a Slack user ID (`U…`, or `W…` on Enterprise Grid) or a user group ID (`S…`).
    public enum Approver: Sendable, Hashable, Codable, CustomStringConvertible {
        case user(String)
        case group(String)

        /// The Slack ID, without saying which kind it is.
        public var id: String {
            switch self {
            case .user(let id), .group(let id): id
            }
        }

        /// Whether the ID has the shape of its kind: its prefix, then 1–31 uppercase letters or digits.
        public var isValid: Bool {
            let prefixes: Set<Character> =
                switch self {
                case .user: ["U", "W"]
                case .group: ["S"]
                }
            guard let first = id.first, prefixes.contains(first), (2...32).contains(id.count) else { return false }
            return id.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
        }

        /// As Slack writes a mention of it: `<@U1>` or `<!subteam^S1>`.
        public var description: String {
            switch self {
            case .user(let id): "<@\(id)>"
            case .group(let id): "<!subteam^\(id)>"
            }
        }

        /// `{"user": "U1"}` or `{"group": "S1"}`, as it is encoded.
        public var json: JSONValue {
            switch self {
            case .user(let id): .object([CodingKeys.user.rawValue: .string(id)])
            case .group(let id): .object([CodingKeys.group.rawValue: .string(id)])
            }
        }

        enum CodingKeys: String, CodingKey {
            case user, group
        }

        /// Encoded as `{"user": "U1"}` or `{"group": "S1"}`.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch (try container.decodeIfPresent(String.self, forKey: .user), try container.decodeIfPresent(String.self, forKey: .group)) {
            case (let id?, nil): self = .user(id)
            case (nil, let id?): self = .group(id)
            default:
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: decoder.codingPath, debugDescription: "An approver is exactly one of `user` or `group`."
                    )
                )
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .user(let id): try container.encode(id, forKey: .user)
            case .group(let id): try container.encode(id, forKey: .group)
            }
        }
    }

    /// One rung of the chain: who is asked, and for how long before the next level is.
    public struct Level: Sendable, Equatable, Codable {
        /// Never empty in a valid chain; only the built-in ``EscalationChain/default`` has a level naming nobody,
        /// which means anyone in the approvals channel.
        public var approvers: [Approver]
        /// Seconds, within ``ChainDuration/range``.
        public var sla: TimeInterval

        /// Someone named twice (`<@U1> <@U1> 30m`) is kept once, where first named.
        public init(approvers: [Approver], sla: TimeInterval) {
            var seen: Set<Approver> = []
            self.approvers = approvers.filter { seen.insert($0).inserted }
            self.sla = sla
        }

        /// Anyone in the approvals channel may decide; such a level lasts until the request expires.
        public var isOpen: Bool { approvers.isEmpty }
    }

    /// What happens when the last level's SLA runs out with no decision.
    public enum FinalAction: String, Sendable, Codable, CaseIterable {
        /// The request expires, decided by `system:timeout`: fail closed.
        case reject
        /// A `low` risk request is approved; any other risk expires.
        case approve
        /// The request stays pending and the last level is pinged again every SLA until the request expires.
        case hold
    }

    /// The most levels a chain may have.
    public static let maximumLevels = 10

    /// The chain's name: the `gate` of the requests it applies to.
    public var name: String
    public var levels: [Level]
    public var finalAction: FinalAction

    public init(name: String, levels: [Level], finalAction: FinalAction = .reject) {
        self.name = name
        self.levels = levels
        self.finalAction = finalAction
    }

    /// The chain for requests whose gate has none: anyone in the approvals channel (except the requester) decides,
    /// nobody is escalated to, and the request expires at its `expires_at`.
    public static let `default` = EscalationChain(
        name: "default", levels: [Level(approvers: [], sla: ChainDuration.range.upperBound)], finalAction: .reject
    )

    // MARK: Validation

    /// Checks the name, the number of levels, every level's approvers and SLA; throws the first problem found.
    public func validate() throws(ChainError) {
        if !ApprovalRequest.isValidGateName(name) { throw .invalidName(name) }
        if self == Self.default { return }
        if levels.isEmpty || levels.count > Self.maximumLevels { throw .levelCount(levels.count) }
        for (index, level) in levels.enumerated() {
            let number = index + 1
            if level.approvers.isEmpty { throw .noApprovers(level: number) }
            if let approver = level.approvers.first(where: { !$0.isValid }) {
                throw .invalidApprover(level: number, approver)
            }
            if !ChainDuration.range.contains(level.sla) || level.sla.rounded() != level.sla {
                throw .slaOutOfRange(level: number, level.sla)
            }
        }
    }

    // MARK: Authority

    /// Everyone named for `level` (1-based): the approvers of levels 1 through `level`, each once, in the order they
    /// first appear. Empty when those levels are all open (anyone may decide).
    public func approvers(upTo level: Int) -> [Approver] {
        var seen: Set<Approver> = []
        var result: [Approver] = []
        for approver in levels.prefix(max(1, level)).flatMap(\.approvers) where seen.insert(approver).inserted {
            result.append(approver)
        }
        return result
    }

    /// Whether `user` (a Slack user ID) may decide at `level`: named in levels 1…`level` directly or through one of
    /// `groups` (the user groups they were found in), or anyone when one of those levels is open.
    ///
    /// The groups come from the adapter, which looks up those ``groupsToCheck(for:atLevel:)`` names; a group it did not
    /// look up counts as not containing the user. The requester is refused elsewhere, by `Approval.checkDecider`.
    public func mayDecide(user: String, atLevel level: Int, memberOf groups: Set<String>) -> Bool {
        let reached = levels.prefix(max(1, level))
        if reached.contains(where: \.isOpen) { return true }
        return reached.flatMap(\.approvers).contains { approver in
            switch approver {
            case .user(let id): id == user
            case .group(let id): groups.contains(id)
            }
        }
    }

    /// The user groups whose members must be known to tell whether `user` may decide at `level`: none when the user
    /// is named directly or a reached level is open, else the groups of levels 1…`level` only, so a lookup for a
    /// level not yet reached can never stand in the way.
    public func groupsToCheck(for user: String, atLevel level: Int) -> [String] {
        if mayDecide(user: user, atLevel: level, memberOf: []) { return [] }
        var seen: Set<String> = []
        return levels.prefix(max(1, level)).flatMap(\.approvers).compactMap { approver in
            if case .group(let id) = approver, seen.insert(id).inserted { id } else { nil }
        }
    }

    // MARK: Timing

    /// When `level`'s SLA runs out, for a level that started at `startedAt`.
    ///
    /// Levels outside 1…`levels.count` are read as the nearest one, so a stale level number never crashes the
    /// scheduler.
    public func deadline(ofLevel level: Int, startedAt: Date) -> Date {
        startedAt.addingTimeInterval(self.level(level).sla)
    }

    /// What to do with a pending request at `now`, at `level` since `levelStartedAt`, that expires at `expiresAt`.
    ///
    /// One step at a time: after `.escalate` or `.repingLast` whose deadline has passed too (after a restart), call
    /// again. Whichever comes first, the end of the chain or `expiresAt`, decides; at the same instant, `expiresAt`
    /// wins (fail closed).
    public func step(level: Int, risk: Risk, levelStartedAt: Date, now: Date, expiresAt: Date) -> EscalationStep {
        if now >= expiresAt { return .expire }
        let levelNumber = min(max(1, level), levels.count)
        let current = self.level(levelNumber)
        if current.isOpen { return .wait(until: expiresAt) }
        let deadline = levelStartedAt.addingTimeInterval(current.sla)
        if now < deadline { return .wait(until: min(deadline, expiresAt)) }
        if levelNumber < levels.count {
            // The next level starts when this one ran out, not when the scheduler noticed: a late scheduler
            // (after a restart) fires the overdue levels in order without shifting their deadlines.
            let next = levelNumber + 1
            var ask = deadline.addingTimeInterval(self.level(next).sla)
            // A held last level reached late: its first re-ask keeps the rhythm, but not within half an SLA of this ask.
            if next == levels.count, finalAction == .hold { ask = Self.spaced(ask, after: now, period: self.level(next).sla) }
            return .escalate(toLevel: next, nextDeadline: min(ask, expiresAt))
        }
        switch finalAction {
        case .reject:
            return .expire
        case .approve:
            return risk == .low ? .approve : .expire
        case .hold:
            // Re-pings keep the level's rhythm; the ones missed while nobody was running are not sent in a burst.
            let period = max(current.sla, 1)
            let missed = (now.timeIntervalSince(deadline) / period).rounded(.down)
            let next = Self.spaced(deadline.addingTimeInterval((missed + 1) * period), after: now, period: period)
            return .repingLast(nextDeadline: min(next, expiresAt))
        }
    }

    /// The next ask of a held level on its rhythm, or the one after it when that would come less than half a period
    /// after an ask made `now`: after a restart, a catch-up ask is not followed by another seconds later.
    static func spaced(_ next: Date, after now: Date, period: TimeInterval) -> Date {
        guard next > now, next.timeIntervalSince(now) < period / 2 else { return next }
        return next.addingTimeInterval(period)
    }

    /// Level `number` (1-based), clamped to the chain; a chain with no levels behaves as `default`'s one level.
    public func level(_ number: Int) -> Level {
        guard !levels.isEmpty else { return Self.default.levels[0] }
        return levels[min(max(1, number), levels.count) - 1]
    }

    // MARK: Text

    /// A `then hold` chain whose last SLA is this short asks its last level so often that people learn to ignore it.
    public static let frequentHoldBelow: TimeInterval = 600

    /// What an admin should know about a valid chain before relying on it, in plain text for the slash command and
    /// the CLI alike: a `then hold` chain whose last level would be asked again more often than every
    /// ``frequentHoldBelow``, and levels that add up to more than a request can live (30 days), so the last ones are
    /// cut short.
    public var cautions: [String] {
        var cautions: [String] = []
        if finalAction == .hold, let last = levels.last, last.sla < Self.frequentHoldBelow {
            let perDay = Int((86_400 / last.sla).rounded(.down))
            cautions.append(
                "with then hold, level \(levels.count) is asked again every \(ChainDuration.format(last.sla)) until the "
                    + "request expires: \(perDay) pings a day for a request nobody decides. A longer last SLA "
                    + "(\(ChainDuration.format(Self.frequentHoldBelow)) or more) is easier on the people asked.")
        }
        let total = levels.reduce(0) { $0 + $1.sla }
        let cap = ChainDuration.range.upperBound
        if total > cap {
            // The first level that does not fit: it gets what is left of the 30 days, and any after it nothing.
            var start: TimeInterval = 0
            var index = 0
            while start + levels[index].sla <= cap {
                start += levels[index].sla
                index += 1
            }
            /// "level 3", or "level 3 on" when more follow it (0-based `first`).
            func from(_ first: Int) -> String { "level \(first + 1)" + (first + 1 < levels.count ? " on" : "") }
            var fate = "\(from(index)) is never reached"
            if start < cap {
                fate = "level \(index + 1) gets \(ChainDuration.format(cap - start)) of its \(ChainDuration.format(levels[index].sla))"
                if index + 1 < levels.count { fate += " and \(from(index + 1)) is never reached" }
            }
            cautions.append(
                "the levels add up to \(ChainDuration.format(total)), but a request lives at most \(ChainDuration.format(cap)): "
                    + fate + ".")
        }
        return cautions
    }

    /// One line: `deploy-prod: <@U1> <@U2> 30m → <!subteam^S1> 1h → then reject`.
    public var description: String { "\(name): " + rungs() }

    /// The chain in one line without its name, the one way chains are written out: each level's approvers (written by
    /// `naming`; `anyone` for an open level) and SLA, then the final action:
    /// `<@U1> <@U2> 30m → <!subteam^S1> 1h → then reject` for Slack, `U1 U2 30m → S1 1h → then reject` for a terminal.
    public func rungs(naming: (Approver) -> String = \.description, anyone: String = "anyone in the channel") -> String {
        if self == Self.default { return "\(anyone), until the request expires" }
        let rungs = levels.map { level in
            let who = level.isOpen ? anyone : level.approvers.map(naming).joined(separator: " ")
            return "\(who) \(ChainDuration.format(level.sla))"
        }
        return (rungs + ["then \(finalAction.rawValue)"]).joined(separator: " → ")
    }

    // MARK: Coding

    enum CodingKeys: String, CodingKey {
        case name, levels
        case finalAction = "final_action"
    }

    /// Reads `{"name", "levels": [{"approvers": [...], "sla": seconds}], "final_action"}`; `final_action` defaults to
    /// `reject`. Decoding checks the shape only: call ``validate()`` on chains from outside.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        levels = try container.decode([Level].self, forKey: .levels)
        finalAction = try container.decodeIfPresent(FinalAction.self, forKey: .finalAction) ?? .reject
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(levels, forKey: .levels)
        try container.encode(finalAction, forKey: .finalAction)
    }
}

/// What the scheduler must do for a pending request when its deadline comes (see ``EscalationChain/step(level:risk:levelStartedAt:now:expiresAt:)``).
public enum EscalationStep: Sendable, Equatable {
    /// Nothing yet; ask again at `until` (the level's deadline, or `expires_at` if that is earlier).
    case wait(until: Date)
    /// Ping level `toLevel`. It started when the previous level ran out: keep
    /// `deadline(ofLevel: previousLevel, startedAt: previousStart)` as its start, and ask again at `nextDeadline`
    /// (its SLA's end, or `expires_at` if that is earlier).
    case escalate(toLevel: Int, nextDeadline: Date)
    /// `hold`: ping the last level again; keep the level and its start, and ask again at `nextDeadline`.
    case repingLast(nextDeadline: Date)
    /// The request expires, decided by `system:timeout`.
    case expire
    /// The chain ends with `approve` and the request is `low` risk: approve it.
    case approve
}

/// Why a chain was refused; each case reads as one sentence through `description`.
public enum ChainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name breaks the rules for gate names.
    case invalidName(String)
    /// No levels, or more than ``EscalationChain/maximumLevels``.
    case levelCount(Int)
    /// Level `level` (1-based) names nobody.
    case noApprovers(level: Int)
    /// Level `level` names an ID that is not shaped like a Slack user or user group ID.
    case invalidApprover(level: Int, EscalationChain.Approver)
    /// Level `level`'s SLA is not a whole number of seconds within ``ChainDuration/range``.
    case slaOutOfRange(level: Int, TimeInterval)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "`\(name)` is not a valid chain name; use 1–64 characters of a–z, 0–9, `-`, `_` or `.`."
        case .levelCount(0):
            return "A chain needs at least one level."
        case .levelCount(let count):
            return "A chain has at most \(EscalationChain.maximumLevels) levels; this one has \(count)."
        case .noApprovers(let level):
            return "Level \(level) names no approvers; name at least one user or user group."
        case .invalidApprover(let level, .user(let id)):
            return "Level \(level) names user `\(id)`, which is not a Slack user ID (`U…` or `W…`)."
        case .invalidApprover(let level, .group(let id)):
            return "Level \(level) names group `\(id)`, which is not a Slack user group ID (`S…`)."
        case .slaOutOfRange(let level, let sla):
            let shown = sla.isFinite && sla.rounded() == sla && abs(sla) < 1e15 ? String(Int(sla)) : String(sla)
            return "Level \(level) has an SLA of \(shown) seconds; it must be whole seconds from 1 second to 30 days."
        }
    }
}
