import Foundation
import Testing

import ApprovalCore

@Suite("ApprovalID")
struct ApprovalIDTests {
    static let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    @Test("random() is `apr_` and at least 22 URL-safe base64url characters (≥ 96 bits, here 128)")
    func shape() {
        let id = ApprovalID.random()
        #expect(id.rawValue.hasPrefix("apr_"))
        let token = id.rawValue.dropFirst(4)
        #expect(token.count >= 22)
        #expect(token.count * 6 >= 128)
        #expect(token.allSatisfy(Self.urlSafe.contains))
        #expect(!id.rawValue.contains("="))
        #expect(id.description == id.rawValue)
    }

    @Test("1000 draws are all different")
    func unique() {
        let ids = (0..<1000).map { _ in ApprovalID.random() }
        #expect(Set(ids).count == 1000)
        #expect(Set(ids.map { $0.rawValue.dropFirst(4).prefix(8) }).count == 1000)
    }

    @Test("it encodes as a bare JSON string and decodes back")
    func codable() throws {
        let id = ApprovalID(rawValue: "apr_AbC-_9")
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["apr_AbC-_9"]"#)
        #expect(try JSONDecoder().decode([ApprovalID].self, from: data) == [id])
    }
}
