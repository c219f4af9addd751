import ApprovalCore
import Foundation

/// What a button (or a modal's `private_metadata`) carries: a small versioned value, so a button from an
/// older message format is recognised and answered politely instead of misread.
public struct ButtonValue: Sendable, Equatable, Codable {
    public static let currentVersion = 1

    public var version: Int
    public var approvalID: ApprovalID

    public init(approvalID: ApprovalID) {
        self.version = Self.currentVersion
        self.approvalID = approvalID
    }

    private enum CodingKeys: String, CodingKey {
        case version = "v"
        case approvalID = "id"
    }

    public var encoded: String {
        CanonicalJSON.serialize(.object(["v": .number(Double(version)), "id": .string(approvalID.rawValue)]))
    }

    /// The value, or `nil` when it is not one this version understands.
    public static func decode(_ text: String?) -> ButtonValue? {
        guard let text, let json = try? JSONValue.parse(text), case .number(let version)? = json["v"],
            version == Double(currentVersion), let id = json["id"]?.stringValue, id.hasPrefix("apr_"), id.count <= 64
        else { return nil }
        return ButtonValue(approvalID: ApprovalID(rawValue: id))
    }
}
