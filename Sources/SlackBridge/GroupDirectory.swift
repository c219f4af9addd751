import ApprovalCore
import Foundation
import SlackAPI
import Synchronization

/// Members of Slack user groups, read with `usergroups.users.list` when needed and kept for a short while, so a
/// burst of clicks or DMs costs one call per group.
public final class GroupDirectory: Sendable {
    let slack: any SlackWebAPI
    let clock: any WallClock
    /// How long a group's member list is trusted.
    let lifetime: TimeInterval
    private let cache = Mutex<[String: (members: Set<String>, fetchedAt: Date)]>([:])

    public init(slack: any SlackWebAPI, clock: any WallClock, lifetime: TimeInterval = 60) {
        self.slack = slack
        self.clock = clock
        self.lifetime = lifetime
    }

    /// The members of each group in `groups`; throws the first Slack error, so a caller deciding who may act fails
    /// closed.
    public func members(of groups: [String]) async throws(SlackAPIError) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for group in Set(groups) {
            let now = clock.now
            if let cached = cache.withLock({ $0[group] }), now.timeIntervalSince(cached.fetchedAt) < lifetime {
                result[group] = cached.members
                continue
            }
            let members = Set(try await slack.usergroupMembers(group))
            cache.withLock { $0[group] = (members, now) }
            result[group] = members
        }
        return result
    }

    /// Slack user `user` as a decider of `approval`, with the user groups the request's chain needs to know them in
    /// (none asked of Slack when no check needs them).
    public func decider(_ user: String, name: String?, on approval: Approval, at now: Date) async throws(SlackAPIError) -> Actor {
        let needed = approval.groupsToResolve(for: user, name: name, at: now)
        let memberOf = needed.isEmpty ? [] : try await groups(containing: user, among: needed)
        return .slackUser(user, name: name, groups: memberOf)
    }

    /// Slack user `user` as one who would break the glass, with those of the break-glass roles' user groups (`needed`,
    /// from `ApprovalService.breakGlassGroups()`) they are in.
    public func breakingGlass(_ user: String, roleGroups needed: [String]) async throws(SlackAPIError) -> Actor {
        .slackUser(user, groups: needed.isEmpty ? [] : try await groups(containing: user, among: needed))
    }

    /// Those of `groups` that have `user` among their members; throws the first Slack error (fail closed).
    public func groups(containing user: String, among groups: [String]) async throws(SlackAPIError) -> Set<String> {
        Set(try await members(of: groups).filter { $0.value.contains(user) }.keys)
    }

    /// The user IDs a list of approvers stands for, groups expanded, each once, in order.
    public func users(_ approvers: [EscalationChain.Approver]) async throws(SlackAPIError) -> [String] {
        let groups = try await members(of: approvers.compactMap { if case .group(let id) = $0 { id } else { nil } })
        var seen: Set<String> = []
        var users: [String] = []
        for approver in approvers {
            switch approver {
            case .user(let id):
                if seen.insert(id).inserted { users.append(id) }
            case .group(let id):
                for member in (groups[id] ?? []).sorted() where seen.insert(member).inserted { users.append(member) }
            }
        }
        return users
    }
}
