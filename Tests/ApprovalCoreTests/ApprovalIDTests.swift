import DomainTestSupport
import Foundation
import Testing

import ApprovalCore

@Suite("ApprovalID")
struct ApprovalIDTests {
    static let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    @Test("random(at:) is `apr_`, 8 characters of time and 16 of randomness (96 bits), all URL-safe")
    func shape() {
        let id = ApprovalID.random(at: Date(timeIntervalSince1970: 1_795_309_200))
        #expect(id.rawValue.hasPrefix("apr_"))
        let token = id.rawValue.dropFirst(4)
        #expect(token.count == 24)
        #expect(token.dropFirst(8).count * 6 >= 96)
        #expect(token.allSatisfy(Self.urlSafe.contains))
        #expect(!id.rawValue.contains("="))
        #expect(id.description == id.rawValue)
    }

    @Test("1000 draws in the same millisecond are all different: the random part differs")
    func unique() {
        let now = Date(timeIntervalSince1970: 1_795_309_200.5)
        let ids = (0..<1000).map { _ in ApprovalID.random(at: now) }
        #expect(Set(ids).count == 1000)
        #expect(Set(ids.map { $0.rawValue.dropFirst(12) }).count == 1000)
        #expect(Set(ids.map { $0.rawValue.prefix(12) }).count == 1)
    }

    @Test("ids sort as bytes in the order of their creation times, to the millisecond")
    func sortsByTime() {
        let times: [TimeInterval] = [0, 0.001, 0.063, 0.064, 1, 59.999, 86_400, 1_795_309_200, 1_795_309_200.001, 4_102_444_800]
        let ids = times.map { ApprovalID.random(at: Date(timeIntervalSince1970: $0)).rawValue }
        #expect(ids.map { Array($0.utf8.prefix(12)) }.sorted { $0.lexicographicallyPrecedes($1) } == ids.map { Array($0.utf8.prefix(12)) })
        #expect(Set(ids.map { $0.prefix(12) }).count == times.count)
        #expect(ids[0].hasPrefix("apr_--------"))
    }

    @Test("it encodes as a bare JSON string and decodes back")
    func codable() throws {
        let id = ApprovalID(rawValue: "apr_AbC-_9")
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["apr_AbC-_9"]"#)
        #expect(try JSONDecoder().decode([ApprovalID].self, from: data) == [id])
    }
}
