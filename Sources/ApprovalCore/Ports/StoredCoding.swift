import Foundation
import Synchronization

// What every storage engine writes as text, the same on each, so a copy between engines keeps it byte for byte.

/// Chains as stored: compact JSON with sorted keys, so equal chains are equal text.
public enum ChainCoding {
    public static func encode(_ chain: EscalationChain) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value of plain strings, numbers and arrays cannot fail.
        return String(decoding: (try? encoder.encode(chain)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func decode(_ text: String) throws -> EscalationChain {
        do {
            return try JSONDecoder().decode(EscalationChain.self, from: Data(text.utf8))
        } catch {
            throw StorageError.corrupt("escalation chain")
        }
    }
}

/// Policies as stored: compact JSON with sorted keys, so equal sets are equal text.
public enum PolicyCoding {
    public static func encode(_ value: any Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain strings, numbers, arrays and enums: encoding cannot fail.
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The stored text of the rules requests matched last: many requests match the same few rules.
    private static let recent = Mutex<[String: (policy: AppliedPolicy, text: String)]>([:])

    public static func encode(_ policy: AppliedPolicy) -> String {
        if let hit = recent.withLock({ $0[policy.name] }), hit.policy == policy { return hit.text }
        let text = encode(policy as any Encodable)
        recent.withLock { cache in
            if cache.count > 1_000 { cache.removeAll() }
            cache[policy.name] = (policy, text)
        }
        return text
    }

    public static func decodeApplied(_ text: String) throws -> AppliedPolicy {
        do {
            return try JSONDecoder().decode(AppliedPolicy.self, from: Data(text.utf8))
        } catch {
            throw StorageError.corrupt("policy of a request")
        }
    }

    public static func decodeSet(_ text: String) throws -> PolicySet {
        do {
            return try JSONDecoder().decode(PolicySet.self, from: Data(text.utf8))
        } catch {
            throw StorageError.corrupt("policy set")
        }
    }
}

/// A contact request's response options as stored: a canonical JSON array.
public enum ContactOptionsCoding {
    public static func encode(_ options: [ResponseOption]) -> String {
        CanonicalJSON.serialize(.array(options.map(\.json)))
    }

    public static func decode(_ text: String) throws -> [ResponseOption] {
        guard case .array(let list) = try JSONValue.parse(text) else { throw StorageError.corrupt("contact request options") }
        return try list.enumerated().map { index, value in
            do {
                return try ResponseOption(json: value, field: "response_options[\(index)]")
            } catch {
                throw StorageError.corrupt("contact request options")
            }
        }
    }
}

/// A decision as stored: canonical JSON.
public enum DecisionCoding {
    public static func encode(_ d: Decision) -> String {
        var members: [String: JSONValue] = [
            "outcome": .string(d.outcome.rawValue), "by": .string(d.by), "at": .number(Double(d.at.millisecondsSince1970)),
            "payload": d.payload, "payload_sha256": .string(d.payloadSHA256),
        ]
        if let v = d.byName { members["by_name"] = .string(v) }
        if let v = d.reason { members["reason"] = .string(v) }
        if let v = d.reasonCode { members["reason_code"] = .string(v) }
        if d.breakGlass { members["break_glass"] = .bool(true) }
        return CanonicalJSON.serialize(.object(members))
    }

    public static func decode(_ text: String) throws -> Decision {
        let json = try JSONValue.parse(text)
        guard case .number(let at)? = json["at"], let outcome = json["outcome"]?.stringValue.flatMap(Decision.Outcome.init),
            let by = json["by"]?.stringValue, let payload = json["payload"], let digest = json["payload_sha256"]?.stringValue
        else { throw StorageError.corrupt("decision") }
        return Decision(
            outcome: outcome, by: by, byName: json["by_name"]?.stringValue, at: Date(millisecondsSince1970: Int64(at)),
            reason: json["reason"]?.stringValue, reasonCode: json["reason_code"]?.stringValue, payload: payload,
            payloadSHA256: digest, breakGlass: json["break_glass"] == .bool(true)
        )
    }
}

/// Votes as an engine gathers them into their approval's row.
public enum VoteCoding {
    /// The votes gathered as a JSON array of `[id, voter, voter_name, verdict, reason, reason_code, payload_sha256, at, roles, withdrawn_at]`, oldest first.
    public static func decodeGathered(_ text: String?) throws -> [Vote] {
        guard let text, text != "[]" else { return [] }
        guard case .array(let rows) = try JSONValue.parse(text) else { throw StorageError.corrupt("votes") }
        return try rows.map { row -> (Double, Vote) in
            guard case .array(let f) = row, f.count == 10, case .number(let id) = f[0], let voter = f[1].stringValue,
                let verdict = f[3].stringValue.flatMap(Vote.Verdict.init), let digest = f[6].stringValue, case .number(let at) = f[7]
            else { throw StorageError.corrupt("vote") }
            return (id, Vote(
                by: voter, byName: f[2].stringValue, verdict: verdict, reason: f[4].stringValue, reasonCode: f[5].stringValue,
                payloadSHA256: digest, at: Date(millisecondsSince1970: Int64(at)), roles: try roles(f[8]),
                withdrawnAt: { if case .number(let at) = f[9] { Date(millisecondsSince1970: Int64(at)) } else { nil } }()))
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    private static func roles(_ value: JSONValue) throws -> [String] {
        guard case .string(let text) = value else { return [] }
        guard case .array(let names) = try JSONValue.parse(text) else { throw StorageError.corrupt("vote roles") }
        return names.compactMap(\.stringValue)
    }
}

/// One value of a stored row, typed as SQLite types it: what `gatehouse migrate-storage` copies between engines.
public enum StoredValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}
