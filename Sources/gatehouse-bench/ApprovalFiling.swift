import NIOCore

/// Files approvals over several connections at once and returns their ids: the requests a benchmark then clicks on or
/// lists.
enum ApprovalFiling {
    static func file(
        _ count: Int, body: @escaping @Sendable (Int) -> String, target: BenchTarget, key: String, connections: Int,
        group: any EventLoopGroup
    ) async throws -> [String] {
        try await withThrowingTaskGroup(of: [String].self) { tasks in
            for index in 0..<Swift.min(connections, count) {
                tasks.addTask {
                    let connection = try await HTTPConnection.connect(to: target, on: group)
                    defer { Task { await connection.close() } }
                    var ids: [String] = []
                    for n in stride(from: index, to: count, by: connections) {
                        var request = BenchRequest(method: .POST, path: "/v1/approvals", key: key, body: ByteBuffer(string: body(n)))
                        request.keepBody = true
                        let response = try await connection.request(request)
                        guard response.status == 201, let text = response.body.map({ String(buffer: $0) }),
                            let range = text.range(of: #""id":""#), let close = text[range.upperBound...].firstIndex(of: "\"")
                        else { throw BenchError.usage("creating approvals failed with HTTP \(response.status)") }
                        ids.append(String(text[range.upperBound..<close]))
                    }
                    return ids
                }
            }
            var all: [String] = []
            for try await some in tasks { all += some }
            return all
        }
    }
}
