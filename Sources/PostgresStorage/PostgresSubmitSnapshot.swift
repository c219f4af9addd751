import ApprovalCore
import Foundation
import Logging
import PostgresNIO

/// What a create asks while it is built (see `SubmitSnapshot`): chains by name, and whether gate and action pairs were
/// ever approved. The policy set is always read.
struct PostgresSubmitQuestions: Sendable, Equatable {
    struct GateAction: Sendable, Hashable {
        var gate: String
        var action: String
    }

    var chainNames: Set<String> = []
    var pairs: Set<GateAction> = []

    func covers(_ other: PostgresSubmitQuestions) -> Bool { other.chainNames.isSubset(of: chainNames) && other.pairs.isSubset(of: pairs) }

    mutating func formUnion(_ other: PostgresSubmitQuestions) {
        chainNames.formUnion(other.chainNames)
        pairs.formUnion(other.pairs)
    }
}

/// The answers to a create's questions, read in its transaction by one statement, so they are the committed state of
/// one instant, whichever replica committed it. Nothing is kept between creates: another replica may have changed a
/// chain or the policies since.
struct PostgresSubmitAnswers: Sendable {
    var questions: PostgresSubmitQuestions
    var policies: PolicySet
    /// The stored definitions among the chains asked for, and `default`'s when an admin stored one.
    var definitions: [String: String]
    var approved: Set<PostgresSubmitQuestions.GateAction>

    static func read(
        _ questions: PostgresSubmitQuestions, on connection: PostgresConnection, logger: Logger
    ) async throws -> PostgresSubmitAnswers {
        let names = Array(questions.chainNames)
        let pairs = Array(questions.pairs)
        let rows = try await connection.query(
            """
            SELECT 'policies'::text, NULL::text, definition FROM policy_set WHERE id = 1
            UNION ALL
            SELECT 'chain'::text, name, definition FROM chain WHERE name = ANY(\(names)::text[]) OR name = 'default'
            UNION ALL
            SELECT 'approved'::text, q.gate, q.action FROM unnest(\(pairs.map(\.gate))::text[], \(pairs.map(\.action))::text[]) AS q(gate, action)
            WHERE EXISTS (SELECT 1 FROM approval a WHERE a.gate = q.gate AND a.action = q.action AND a.status IN ('approved', 'modified'))
            """, logger: logger)
        var answers = PostgresSubmitAnswers(questions: questions, policies: .empty, definitions: [:], approved: [])
        for try await (kind, key, value) in rows.decode((String, String?, String?).self) {
            switch kind {
            case "policies": answers.policies = try value.map(PolicyCoding.decodeSet) ?? .empty
            case "chain": if let key, let value { answers.definitions[key] = value }
            default: if let key, let value { answers.approved.insert(.init(gate: key, action: value)) }
            }
        }
        return answers
    }
}

/// A create's snapshot: answers what was read, and records every question, so that a question not read yet is read
/// and the create built again (`build` is pure: the same answers give the same request).
final class PostgresSubmitSnapshot: SubmitSnapshot {
    private let answers: PostgresSubmitAnswers?
    private(set) var asked = PostgresSubmitQuestions()
    /// A stored chain that could not be decoded: thrown once the create is built, as on SQLite.
    private(set) var failure: (any Error)?

    /// `answers` `nil`: nothing read yet (an empty policy set, the default chain, never approved), only to learn the
    /// first questions before the transaction begins.
    init(_ answers: PostgresSubmitAnswers?) {
        self.answers = answers
    }

    var policies: PolicySet { answers?.policies ?? .empty }

    /// The chain named `name`, else the chain an admin named `default`, else the built-in default.
    func chain(named name: String) -> EscalationChain {
        asked.chainNames.insert(name)
        guard let answers, answers.questions.chainNames.contains(name),
            let definition = answers.definitions[name] ?? answers.definitions["default"]
        else { return .default }
        do {
            return try ChainCoding.decode(definition)
        } catch {
            failure = error
            return .default
        }
    }

    func everApproved(gate: String, action: String) -> Bool {
        let pair = PostgresSubmitQuestions.GateAction(gate: gate, action: action)
        asked.pairs.insert(pair)
        return answers?.approved.contains(pair) ?? false
    }

    /// Builds the create from answers read in the caller's transaction: first for the questions a build without
    /// answers asks (and whether its gate and action were ever approved), then again with every question a build
    /// asked that was not read yet, until a build asks nothing new. Usually one statement.
    static func build(
        _ build: @Sendable (any SubmitSnapshot) -> PlannedChange, on connection: PostgresConnection, logger: Logger
    ) async throws -> PlannedChange {
        let first = PostgresSubmitSnapshot(nil)
        let guess = build(first)
        var questions = first.asked
        questions.pairs.insert(.init(gate: guess.transition.after.gate, action: guess.transition.after.action))
        while true {
            let answers = try await PostgresSubmitAnswers.read(questions, on: connection, logger: logger)
            let snapshot = PostgresSubmitSnapshot(answers)
            let change = build(snapshot)
            // Every round reads at least one new question, and `build` asks finitely many: this ends.
            guard questions.covers(snapshot.asked) else {
                questions.formUnion(snapshot.asked)
                continue
            }
            if let failure = snapshot.failure { throw failure }
            return change
        }
    }
}
