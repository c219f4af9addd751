import DomainTestSupport
import ApprovalCore
import Foundation
import Testing

@Suite("Escalation chains")
struct EscalationChainTests {
    typealias Level = EscalationChain.Level

    /// 2026-11-22T01:22:43Z: when the request was created and level 1 started.
    static let t0 = Date(timeIntervalSince1970: 1_795_310_563)
    static let minute: TimeInterval = 60
    static let hour: TimeInterval = 3_600

    static func at(_ offset: TimeInterval) -> Date { t0.addingTimeInterval(offset) }

    /// `deploy-prod: <@U1> <@U2> 30m → <!subteam^S1> 1h → <@U3> 2h → then …`
    static func threeLevels(_ finalAction: EscalationChain.FinalAction = .reject) -> EscalationChain {
        Fixture.threeLevels(finalAction)
    }

    /// Level starts and deadlines of `threeLevels`: 0, 30m, 1h30m; the chain ends at 3h30m.
    static let levelStarts = [at(0), at(30 * minute), at(90 * minute)]
    static let chainEnd = at(210 * minute)
    /// A day after creation: later than the chain's end.
    static let expiresAt = at(24 * hour)

    static func step(
        _ chain: EscalationChain, level: Int, now: Date, risk: Risk = .high, expiresAt: Date = expiresAt
    ) -> EscalationStep {
        chain.step(level: level, risk: risk, levelStartedAt: levelStarts[level - 1], now: now, expiresAt: expiresAt)
    }

    // MARK: A whole three-level chain

    @Test("each level waits for its SLA, then escalates to the next, whose deadline follows on from the last one")
    func escalatesAtEachSLA() {
        let chain = Self.threeLevels()
        #expect(Self.step(chain, level: 1, now: Self.t0) == .wait(until: Self.at(30 * Self.minute)))
        #expect(Self.step(chain, level: 1, now: Self.at(29 * Self.minute)) == .wait(until: Self.at(30 * Self.minute)))
        #expect(
            Self.step(chain, level: 1, now: Self.at(30 * Self.minute)) == .escalate(toLevel: 2, nextDeadline: Self.at(90 * Self.minute))
        )
        #expect(Self.step(chain, level: 2, now: Self.at(31 * Self.minute)) == .wait(until: Self.at(90 * Self.minute)))
        #expect(
            Self.step(chain, level: 2, now: Self.at(90 * Self.minute)) == .escalate(toLevel: 3, nextDeadline: Self.chainEnd)
        )
        #expect(Self.step(chain, level: 3, now: Self.at(209 * Self.minute)) == .wait(until: Self.chainEnd))
    }

    @Test("the level's start plus its SLA is its deadline")
    func deadlines() {
        let chain = Self.threeLevels()
        #expect(chain.deadline(ofLevel: 1, startedAt: Self.t0) == Self.at(30 * Self.minute))
        #expect(chain.deadline(ofLevel: 2, startedAt: Self.levelStarts[1]) == Self.levelStarts[2])
        #expect(chain.deadline(ofLevel: 3, startedAt: Self.levelStarts[2]) == Self.chainEnd)
        #expect(chain.deadline(ofLevel: 9, startedAt: Self.t0) == Self.at(2 * Self.hour), "out of range reads as the last level")
    }

    @Test("then reject: at the end of the chain the request expires, whatever its risk", arguments: Risk.allCases)
    func finalReject(risk: Risk) {
        #expect(Self.step(Self.threeLevels(.reject), level: 3, now: Self.chainEnd, risk: risk) == .expire)
    }

    @Test("then approve: a low-risk request is approved at the end of the chain")
    func finalApproveLowRisk() {
        #expect(Self.step(Self.threeLevels(.approve), level: 3, now: Self.chainEnd, risk: .low) == .approve)
    }

    @Test("then approve: any other risk expires instead", arguments: [Risk.medium, .high, .critical])
    func finalApproveOtherRisk(risk: Risk) {
        #expect(Self.step(Self.threeLevels(.approve), level: 3, now: Self.chainEnd, risk: risk) == .expire)
    }

    @Test("then hold: the last level is pinged again every SLA until expires_at, which then expires it")
    func holdRepings() {
        let chain = Self.threeLevels(.hold)
        var now = Self.chainEnd
        var pings: [Date] = []
        while case .repingLast(let next) = Self.step(chain, level: 3, now: now) {
            pings.append(now)
            #expect(next > now)
            now = next
        }
        // 3h30m, 5h30m, … 23h30m: ten pings two hours apart; the next would be after expires_at.
        #expect(pings == stride(from: 3.5, through: 23.5, by: 2).map { Self.at($0 * Self.hour) })
        #expect(now == Self.expiresAt)
        #expect(Self.step(chain, level: 3, now: now) == .expire)
    }

    @Test("then hold: re-pings missed while nothing ran are sent once, on the level's rhythm")
    func holdAfterOutage() {
        let chain = Self.threeLevels(.hold)
        // Due at 5h30m, 7h30m and 9h30m; the scheduler comes back at 10h.
        #expect(Self.step(chain, level: 3, now: Self.at(10 * Self.hour)) == .repingLast(nextDeadline: Self.at(11.5 * Self.hour)))
    }

    @Test("then hold: after a catch-up ask, the next one on the rhythm is skipped when it would come within half an SLA")
    func holdCatchUpIsSpaced() {
        let chain = Self.threeLevels(.hold)
        // Back at 11h, 30m before the 11h30m ask (the SLA is 2h): the next ask is the one after it.
        #expect(Self.step(chain, level: 3, now: Self.at(11 * Self.hour)) == .repingLast(nextDeadline: Self.at(13.5 * Self.hour)))
        // Back at 10h30m, an hour before: kept.
        #expect(Self.step(chain, level: 3, now: Self.at(10.5 * Self.hour)) == .repingLast(nextDeadline: Self.at(11.5 * Self.hour)))
        // Level 3 reached late, at 3h10m, 20m before its first re-ask at 3h30m: that re-ask moves to 5h30m.
        #expect(Self.step(chain, level: 2, now: Self.at(190 * Self.minute)) == .escalate(toLevel: 3, nextDeadline: Self.at(5.5 * Self.hour)))
        // On time, the rhythm is untouched, and `then reject` keeps its chain end whenever level 3 is reached.
        #expect(Self.step(chain, level: 2, now: Self.at(90 * Self.minute)) == .escalate(toLevel: 3, nextDeadline: Self.chainEnd))
        #expect(Self.step(Self.threeLevels(), level: 2, now: Self.at(190 * Self.minute)) == .escalate(toLevel: 3, nextDeadline: Self.chainEnd))
    }

    @Test("overdue levels after a restart fire one at a time, in order, then the final action")
    func overdueCascade() {
        let chain = Self.threeLevels()
        let late = Self.at(5 * Self.hour)
        #expect(Self.step(chain, level: 1, now: late) == .escalate(toLevel: 2, nextDeadline: Self.levelStarts[2]))
        #expect(Self.step(chain, level: 2, now: late) == .escalate(toLevel: 3, nextDeadline: Self.chainEnd))
        #expect(Self.step(chain, level: 3, now: late) == .expire)
    }

    @Test("expires_at before the chain's end wins: deadlines are capped by it and it expires the request")
    func expiresAtFirst() {
        let chain = Self.threeLevels(.approve)
        let expiresAt = Self.at(2 * Self.hour)
        #expect(
            Self.step(chain, level: 2, now: Self.at(90 * Self.minute), risk: .low, expiresAt: expiresAt)
                == .escalate(toLevel: 3, nextDeadline: expiresAt)
        )
        #expect(Self.step(chain, level: 3, now: Self.at(100 * Self.minute), risk: .low, expiresAt: expiresAt) == .wait(until: expiresAt))
        #expect(Self.step(chain, level: 3, now: expiresAt, risk: .low, expiresAt: expiresAt) == .expire)
    }

    @Test("expires_at inside level 1: it waits only until expires_at, then expires without escalating")
    func expiresInFirstLevel() {
        let chain = Self.threeLevels()
        let expiresAt = Self.at(20 * Self.minute)
        #expect(Self.step(chain, level: 1, now: Self.t0, expiresAt: expiresAt) == .wait(until: expiresAt))
        #expect(Self.step(chain, level: 1, now: expiresAt, expiresAt: expiresAt) == .expire)
        #expect(Self.step(chain, level: 1, now: Self.at(30 * Self.minute), expiresAt: expiresAt) == .expire)
    }

    @Test("when the chain ends exactly at expires_at, expiry wins over a final approve (fail closed)")
    func tieGoesToExpiry() {
        let chain = Self.threeLevels(.approve)
        #expect(Self.step(chain, level: 3, now: Self.chainEnd, risk: .low, expiresAt: Self.chainEnd) == .expire)
    }

    @Test("then hold: the re-ping deadline is capped by expires_at")
    func holdCappedByExpiry() {
        let chain = Self.threeLevels(.hold)
        let expiresAt = Self.at(4 * Self.hour)
        #expect(Self.step(chain, level: 3, now: Self.chainEnd, expiresAt: expiresAt) == .repingLast(nextDeadline: expiresAt))
    }

    // MARK: Authority

    @Test("authority grows level by level: levels 1…k decide at level k, group members through their group")
    func authorityGrows() {
        let chain = Self.threeLevels()
        let members: [String: Set<String>] = ["S1": ["U7", "U8"]]
        let who = ["U1", "U2", "U7", "U3", "U9"]
        func allowed(at level: Int) -> [String] {
            who.filter { user in
                chain.mayDecide(user: user, atLevel: level, memberOf: Set(members.filter { $0.value.contains(user) }.keys))
            }
        }
        #expect(allowed(at: 1) == ["U1", "U2"])
        #expect(allowed(at: 2) == ["U1", "U2", "U7"])
        #expect(allowed(at: 3) == ["U1", "U2", "U7", "U3"])
    }

    @Test("a group the user was not found in grants nothing, nor one the chain does not name at the level reached")
    func unknownGroupGrantsNobody() {
        #expect(!Self.threeLevels().mayDecide(user: "U7", atLevel: 2, memberOf: []))
        #expect(!Self.threeLevels().mayDecide(user: "U7", atLevel: 2, memberOf: ["S2"]))
        #expect(!Self.threeLevels().mayDecide(user: "U7", atLevel: 1, memberOf: ["S1"]))
    }

    @Test("approvers(upTo:) lists levels 1…k, each approver once, in order")
    func approversUpTo() {
        var chain = Self.threeLevels()
        chain.levels[2].approvers.append(.user("U1"))
        #expect(chain.approvers(upTo: 1) == [.user("U1"), .user("U2")])
        #expect(chain.approvers(upTo: 2) == [.user("U1"), .user("U2"), .group("S1")])
        #expect(chain.approvers(upTo: 3) == [.user("U1"), .user("U2"), .group("S1"), .user("U3")])
        #expect(chain.approvers(upTo: 99) == chain.approvers(upTo: 3))
    }

    // MARK: The default chain

    @Test("default: anyone may decide, at any level")
    func defaultAuthority() {
        #expect(EscalationChain.default.mayDecide(user: "U42", atLevel: 1, memberOf: []))
        #expect(EscalationChain.default.approvers(upTo: 1).isEmpty)
    }

    @Test("default: never escalates; waits for expires_at even at the longest expiry, then expires")
    func defaultTiming() {
        let chain = EscalationChain.default
        let longest = Self.at(TimeInterval(ApprovalRequest.expiresInRange.upperBound))
        let shortest = Self.at(TimeInterval(ApprovalRequest.expiresInRange.lowerBound))
        for risk in Risk.allCases {
            #expect(chain.step(level: 1, risk: risk, levelStartedAt: Self.t0, now: Self.t0, expiresAt: longest) == .wait(until: longest))
            #expect(
                chain.step(level: 1, risk: risk, levelStartedAt: Self.t0, now: Self.at(29 * 86_400), expiresAt: longest)
                    == .wait(until: longest)
            )
            #expect(chain.step(level: 1, risk: risk, levelStartedAt: Self.t0, now: longest, expiresAt: longest) == .expire)
            #expect(chain.step(level: 1, risk: risk, levelStartedAt: Self.t0, now: shortest, expiresAt: shortest) == .expire)
        }
    }

    @Test("default: named `default`, valid, one open level, described in words")
    func defaultShape() throws {
        let chain = EscalationChain.default
        #expect(chain.name == "default")
        #expect(chain.levels.count == 1 && chain.levels[0].isOpen)
        try chain.validate()
        #expect(chain.description == "default: anyone in the channel, until the request expires")
    }

    // MARK: Validation

    @Test("a well-formed chain of 1 to 10 levels validates")
    func validChains() throws {
        try Self.threeLevels().validate()
        let ten = EscalationChain(
            name: "a.b_c-9", levels: Array(repeating: Level(approvers: [.user("W0ABC")], sla: 1), count: 10), finalAction: .hold
        )
        try ten.validate()
        try EscalationChain(name: "x", levels: [Level(approvers: [.group("S012AB")], sla: 2_592_000)]).validate()
    }

    @Test(
        "validate() names each problem in a sentence",
        arguments: [
            (
                EscalationChain(name: "Deploy", levels: [Level(approvers: [.user("U1")], sla: 60)]),
                ChainError.invalidName("Deploy"),
                "`Deploy` is not a valid chain name; use 1–64 characters of a–z, 0–9, `-`, `_` or `.`."
            ),
            (
                EscalationChain(name: "x", levels: []), .levelCount(0), "A chain needs at least one level."
            ),
            (
                EscalationChain(name: "x", levels: Array(repeating: Level(approvers: [.user("U1")], sla: 60), count: 11)),
                .levelCount(11), "A chain has at most 10 levels; this one has 11."
            ),
            (
                EscalationChain(name: "x", levels: [Level(approvers: [.user("U1")], sla: 60), Level(approvers: [], sla: 60)]),
                .noApprovers(level: 2), "Level 2 names no approvers; name at least one user or user group."
            ),
            (
                EscalationChain(name: "x", levels: [Level(approvers: [.user("u1")], sla: 60)]),
                .invalidApprover(level: 1, .user("u1")), "Level 1 names user `u1`, which is not a Slack user ID (`U…` or `W…`)."
            ),
            (
                EscalationChain(name: "x", levels: [Level(approvers: [.group("U1")], sla: 60)]),
                .invalidApprover(level: 1, .group("U1")), "Level 1 names group `U1`, which is not a Slack user group ID (`S…`)."
            ),
            (
                EscalationChain(name: "x", levels: [Level(approvers: [.user("U1")], sla: 0)]),
                .slaOutOfRange(level: 1, 0),
                "Level 1 has an SLA of 0 seconds; it must be whole seconds from 1 second to 30 days."
            ),
            (
                EscalationChain(name: "x", levels: [Level(approvers: [.user("U1")], sla: 2_592_001)]),
                .slaOutOfRange(level: 1, 2_592_001),
                "Level 1 has an SLA of 2592001 seconds; it must be whole seconds from 1 second to 30 days."
            ),
            (
                EscalationChain(name: "x", levels: [Level(approvers: [.user("U1")], sla: 1.5)]),
                .slaOutOfRange(level: 1, 1.5),
                "Level 1 has an SLA of 1.5 seconds; it must be whole seconds from 1 second to 30 days."
            ),
        ]
    )
    func refusals(chain: EscalationChain, expected: ChainError, sentence: String) {
        #expect(throws: expected) { try chain.validate() }
        #expect(expected.description == sentence)
    }

    @Test("a chain named `default` with its own approvers is an ordinary chain")
    func configuredDefault() throws {
        let chain = EscalationChain(name: "default", levels: [Level(approvers: [.user("U1")], sla: 3_600)])
        try chain.validate()
        #expect(!chain.mayDecide(user: "U2", atLevel: 1, memberOf: []))
        #expect(
            chain.step(level: 1, risk: .low, levelStartedAt: Self.t0, now: Self.at(Self.hour), expiresAt: Self.expiresAt) == .expire
        )
    }

    // MARK: Text and coding

    @Test("description is one line: mentions and durations per level, then the final action")
    func description() {
        let chain = EscalationChain(
            name: "deploy-prod",
            levels: [
                Level(approvers: [.user("U1"), .user("U2")], sla: 1_800), Level(approvers: [.group("S1")], sla: 3_600),
            ]
        )
        #expect(chain.description == "deploy-prod: <@U1> <@U2> 30m → <!subteam^S1> 1h → then reject")
        #expect(Self.threeLevels(.hold).description == "deploy-prod: <@U1> <@U2> 30m → <!subteam^S1> 1h → <@U3> 2h → then hold")
    }

    @Test("JSON: snake_case keys, approvers as {user}/{group}, SLA in seconds; round-trips")
    func coding() throws {
        let chain = Self.threeLevels(.approve)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(chain), as: UTF8.self)
        #expect(
            json == #"{"final_action":"approve","levels":[{"approvers":[{"user":"U1"},{"user":"U2"}],"sla":1800},"#
                + #"{"approvers":[{"group":"S1"}],"sla":3600},{"approvers":[{"user":"U3"}],"sla":7200}],"name":"deploy-prod"}"#
        )
        #expect(try JSONDecoder().decode(EscalationChain.self, from: Data(json.utf8)) == chain)
        #expect(try JSONDecoder().decode(EscalationChain.self, from: try JSONEncoder().encode(EscalationChain.default)) == .default)
    }

    @Test("JSON: a missing final_action means reject; an approver must be exactly one of user or group")
    func decodingRules() throws {
        let plain = #"{"name":"x","levels":[{"approvers":[{"user":"U1"}],"sla":60}]}"#
        #expect(try JSONDecoder().decode(EscalationChain.self, from: Data(plain.utf8)).finalAction == .reject)
        for approver in [#"{}"#, #"{"user":"U1","group":"S1"}"#] {
            let json = #"{"name":"x","levels":[{"approvers":[\#(approver)],"sla":60}]}"#
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(EscalationChain.self, from: Data(json.utf8)) }
        }
    }
}

extension EscalationChainTests {
    @Suite("Chain durations")
    struct Durations {
        @Test(
            "valid durations parse to seconds",
            arguments: [
                ("90s", 90.0), ("30m", 1_800), ("1h30m", 5_400), ("2d", 172_800), ("1d12h", 129_600), ("1s", 1),
                ("30d", 2_592_000), ("720h", 2_592_000), ("1d2h3m4s", 93_784), ("1h1s", 3_601), ("05m", 300),
            ]
        )
        func parses(text: String, seconds: TimeInterval) throws {
            #expect(try ChainDuration.parse(text) == seconds)
        }

        @Test(
            "refusals say what is wrong and how to write it",
            arguments: [
                ("0s", ChainDurationError.tooShort("0s"), "`0s` is under 1 second; the shortest is `1s`."),
                ("0m0s", .tooShort("0m0s"), "`0m0s` is under 1 second; the shortest is `1s`."),
                ("30", .noUnit("30"), "`30` has no unit; add d, h, m or s: `30s` is 30 seconds, `30m` 30 minutes."),
                ("m", .noNumber("m", unit: "m"), "`m` needs a number before `m`, like `30m`."),
                ("1h30", .noUnit("1h30"), "`1h30` has no unit; add d, h, m or s, like `1h30m`."),
                ("1x", .notAUnit("1x", "x"), "`1x` has `x`, which is not a unit; use d, h, m or s, like `1h30m`."),
                ("30M", .notAUnit("30M", "M"), "`30M` has an uppercase unit; write `30m`."),
                ("-5m", .notAUnit("-5m", "-"), "`-5m` has `-`, which is not a unit; use d, h, m or s, like `1h30m`."),
                ("30min", .spelledOutUnit("30min", suggestion: "30m"), "`30min` spells out its unit; write `30m`."),
                ("2hours", .spelledOutUnit("2hours", suggestion: "2h"), "`2hours` spells out its unit; write `2h`."),
                (
                    "1.5h", .notWhole("1.5h"),
                    "`1.5h` is not a whole number; use a smaller unit, like `1h30m` for an hour and a half."
                ),
                ("1h1h", .repeatedUnit("1h1h", unit: "h", suggestion: "2h"), "`1h1h` uses `h` twice; write `2h`."),
                (
                    "1m1h", .unitsOutOfOrder("1m1h", suggestion: "1h1m"),
                    "`1m1h` has its units out of order; they go d, h, m, s, so write `1h1m`."
                ),
                (
                    "20d20d", .repeatedUnit("20d20d", unit: "d", suggestion: nil),
                    "`20d20d` uses `d` twice; use each unit once."
                ),
                (
                    "30s1h", .unitsOutOfOrder("30s1h", suggestion: "1h30s"),
                    "`30s1h` has its units out of order; they go d, h, m, s, so write `1h30s`."
                ),
                ("1h0m", .zeroPart("1h0m", suggestion: "1h"), "`1h0m` has a zero part; write `1h`."),
                ("0h30m", .zeroPart("0h30m", suggestion: "30m"), "`0h30m` has a zero part; write `30m`."),
                ("31d", .tooLong("31d"), "`31d` is over 30 days; the longest is `30d`."),
                ("30d1s", .tooLong("30d1s"), "`30d1s` is over 30 days; the longest is `30d`."),
                (
                    "99999999999999999999d", .tooLong("99999999999999999999d"),
                    "`99999999999999999999d` is over 30 days; the longest is `30d`."
                ),
                ("1h 30m", .containsSpace("1h 30m"), "`1h 30m` has a space in it; write it as one word, like `1h30m`."),
                ("", .empty, "The duration is empty; write a duration like `30m`, `1h30m` or `2d`."),
            ]
        )
        func refuses(text: String, expected: ChainDurationError, sentence: String) {
            #expect(throws: expected) { try ChainDuration.parse(text) }
            #expect(expected.description == sentence)
        }

        @Test(
            "format gives the shortest readable form (later parts below their next unit, the first under 100), ties going to the larger leading unit",
            arguments: [
                (90.0, "90s"), (1_800, "30m"), (5_400, "90m"), (172_800, "2d"), (129_600, "36h"), (3_660, "61m"),
                (7_260, "2h1m"), (2_592_000, "30d"), (1, "1s"), (3_601, "1h1s"), (93_784, "26h3m4s"), (86_460, "1d1m"), (90_061, "25h1m1s"), (216_000, "60h"), (6_000, "1h40m"),
                (5_940, "99m"), (3_541, "59m1s"),
                (1_799.6, "30m"), (0, "0s"),
            ]
        )
        func formats(seconds: TimeInterval, text: String) {
            #expect(ChainDuration.format(seconds) == text)
        }

        @Test("every duration from 1 s to 2 h 1 m formats to a shortest form that parses back to it")
        func formatIsShortestAndRoundTrips() throws {
            let limit = 7_260
            // The length of the shortest readable way to write each total with h, m and s (d is longer than 2 h): the
            // first part under 100, every later one below its next larger unit.
            var shortest = Array(repeating: Int.max, count: limit + 1)
            func length(_ count: Int) -> Int { count == 0 ? 0 : String(count).count + 1 }
            for hours in 0...(limit / 3_600) {
                for minutes in 0...((limit - hours * 3_600) / 60) {
                    for seconds in 0...(limit - hours * 3_600 - minutes * 60) {
                        let total = hours * 3_600 + minutes * 60 + seconds
                        guard total > 0 else { continue }
                        let parts = [hours, minutes, seconds]
                        let first = parts.firstIndex { $0 > 0 }!
                        guard parts[first] < 100, parts[(first + 1)...].allSatisfy({ $0 < 60 }) else { continue }
                        shortest[total] = min(shortest[total], length(hours) + length(minutes) + length(seconds))
                    }
                }
            }
            for total in 1...limit {
                let text = ChainDuration.format(TimeInterval(total))
                #expect(try ChainDuration.parse(text) == TimeInterval(total))
                #expect(text.count == shortest[total], "\(total) s as \(text)")
            }
        }

        @Test("format reads back through parse across the whole range")
        func roundTripsAcrossRange() throws {
            for total in stride(from: 1, through: 2_592_000, by: 9_973) + [2_592_000, 2_591_999, 86_399] {
                #expect(try ChainDuration.parse(ChainDuration.format(TimeInterval(total))) == TimeInterval(total))
            }
        }
    }
}
