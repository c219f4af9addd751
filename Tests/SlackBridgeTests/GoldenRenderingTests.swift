import ApprovalCore
import Foundation
import SlackAPI
import SlackBridge
import Testing

/// Rendering is a pure function from an approval to blocks; these pin what people see in Slack.
@Suite("Golden renderings")
struct GoldenRenderingTests {
    enum MessageCase: String, CaseIterable, CustomTestStringConvertible {
        case pendingHighRisk = "message-pending-high-risk"
        case pendingLowMinimal = "message-pending-low-minimal"
        case pendingLargePayload = "message-pending-large-payload"
        case approvedBySlackUser = "message-approved-by-slack-user"
        case rejectedWithReasonCode = "message-rejected-with-reason-code"
        case modified = "message-modified"
        case expired = "message-expired"
        case cancelled = "message-cancelled"

        var testDescription: String { rawValue }

        func approval() throws -> Approval {
            switch self {
            case .pendingHighRisk: SampleApprovals.pendingHighRisk
            case .pendingLowMinimal: SampleApprovals.pendingLowMinimal
            case .pendingLargePayload: SampleApprovals.pendingLargePayload
            case .approvedBySlackUser: try SampleApprovals.approvedBySlackUser()
            case .rejectedWithReasonCode: try SampleApprovals.rejectedWithReasonCode()
            case .modified: try SampleApprovals.modified()
            case .expired: try SampleApprovals.expired()
            case .cancelled: try SampleApprovals.cancelled()
            }
        }
    }

    @Test("a message renders as its golden file", arguments: MessageCase.allCases)
    func message(_ messageCase: MessageCase) throws {
        let rendered = ApprovalMessage.render(try messageCase.approval())
        try Golden.expectMatch(Golden.Message(text: rendered.text, blocks: rendered.blocks), named: messageCase.rawValue)
    }

    @Test("the reject modal renders as its golden file")
    func rejectModal() throws {
        try Golden.expectMatch(ApprovalModals.reject(SampleApprovals.pendingHighRisk), named: "modal-reject")
    }

    @Test("the modify modal renders as its golden file")
    func modifyModal() throws {
        let view = try #require(ApprovalModals.modify(SampleApprovals.pendingDeploy))
        try Golden.expectMatch(view, named: "modal-modify")
    }

    @Test("the details modal renders as its golden file")
    func detailsModal() throws {
        try Golden.expectMatch(ApprovalModals.details(SampleApprovals.pendingHighRisk), named: "modal-details")
    }

    @Test("rendering the same approval twice gives the same JSON")
    func deterministic() throws {
        for messageCase in MessageCase.allCases {
            let approval = try messageCase.approval()
            let first = ApprovalMessage.render(approval)
            let second = ApprovalMessage.render(approval)
            #expect(try Golden.json(first.blocks) == Golden.json(second.blocks), "\(messageCase.rawValue)")
        }
    }

    @Test("a first difference is reported with its line number and both lines")
    func differenceReport() throws {
        let report = try #require(Golden.firstDifference(expected: "{\n  \"a\": 1\n}\n", actual: "{\n  \"a\": 2\n}\n"))
        #expect(report.contains("line 2"))
        #expect(report.contains("- expected:   \"a\": 1"))
        #expect(report.contains("+ actual:     \"a\": 2"))
        #expect(Golden.firstDifference(expected: "same", actual: "same") == nil)
        let shorter = try #require(Golden.firstDifference(expected: "a\nb", actual: "a"))
        #expect(shorter.contains("<end of file>"))
    }
}
