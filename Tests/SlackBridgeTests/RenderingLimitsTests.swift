import ApprovalCore
import Foundation
import SlackAPI
import SlackBridge
import Testing

/// Whatever a requester sends, the message and the modals are ones Slack accepts.
@Suite("Rendering within Block Kit limits")
struct RenderingLimitsTests {
    @Test("the extreme inputs are as extreme as intended")
    func inputsAreExtreme() {
        #expect(ExtremeApprovals.action.count == ApprovalRequest.actionLimit)
        #expect(BlockKitLimits.length(ExtremeApprovals.action) > 3 * BlockKitLimits.headerText)
        #expect(ExtremeApprovals.reasoning.count == 50_000)
        #expect(ExtremeApprovals.reason.count == 2_000)
        #expect(CanonicalJSON.serialize(ExtremeApprovals.payload).utf8.count >= 500_000)
    }

    @Test("a pending message fits Slack's limits whatever the input", arguments: Risk.allCases)
    func pendingFits(_ risk: Risk) {
        let rendered = ApprovalMessage.render(ExtremeApprovals.pending(risk: risk))
        #expect(BlockKitLimits.problems(inMessageBlocks: rendered.blocks, text: rendered.text) == [])
    }

    @Test("a pending message with a long escalation note fits Slack's limits")
    func escalatedFits() {
        let note = EscalationNote(text: ExtremeApprovals.reasoning, deadline: ExtremeApprovals.decidedAt)
        let rendered = ApprovalMessage.render(ExtremeApprovals.pending(), escalation: note)
        #expect(BlockKitLimits.problems(inMessageBlocks: rendered.blocks, text: rendered.text) == [])
    }

    @Test("a decided message fits Slack's limits in every state whatever the input")
    func decidedFits() throws {
        for (state, approval) in try ExtremeApprovals.allStates() {
            let rendered = ApprovalMessage.render(approval)
            #expect(BlockKitLimits.problems(inMessageBlocks: rendered.blocks, text: rendered.text) == [], "\(state)")
            #expect(BlockTexts.sections(in: rendered.blocks).last?.isEmpty == false, "\(state) has an outcome line")
        }
    }

    @Test("the header is cut to 150 UTF-16 code units without splitting a character")
    func headerCut() throws {
        let rendered = ApprovalMessage.render(ExtremeApprovals.pending())
        let header = try #require(BlockTexts.header(in: rendered.blocks))
        #expect(header.isPlainText)
        #expect(BlockKitLimits.length(header.text) <= BlockKitLimits.headerText)
        #expect(header.text.hasSuffix("…"))
        let kept = String(header.text.dropLast())
        #expect(ExtremeApprovals.action.hasPrefix(kept), "cut on a character boundary")
    }

    @Test("the reject and details modals fit Slack's limits whatever the input", arguments: Risk.allCases)
    func modalsFit(_ risk: Risk) {
        let approval = ExtremeApprovals.pending(risk: risk)
        #expect(BlockKitLimits.problems(inView: ApprovalModals.reject(approval)) == [])
        #expect(BlockKitLimits.problems(inView: ApprovalModals.details(approval)) == [])
    }

    @Test("the modify modal fits Slack's limits for the largest payload it accepts, with an extreme action")
    func modifyModalFits() throws {
        let payload = Self.payload(prettyLength: ApprovalModals.editableLimit, filler: "`<&>*_~")
        let view = try #require(ApprovalModals.modify(ExtremeApprovals.pending(payload: payload)))
        #expect(BlockKitLimits.problems(inView: view) == [])
    }

    @Test("the details modal of a 500 kB payload shows as much as fits and says where the rest is")
    func detailsOfHugePayload() throws {
        let view = ApprovalModals.details(ExtremeApprovals.pending())
        #expect(view.blocks.count <= BlockKitLimits.modalBlocks)
        guard case .context(let elements, _)? = view.blocks.last, case .text(let note)? = elements.first else {
            Issue.record("the last block is not the note about the rest")
            return
        }
        #expect(note.text.contains("GET /v1/approvals/apr_extreme00000000000001"))
        #expect(try JSONEncoder().encode(view).count <= BlockKitLimits.viewBytes)
    }

    @Test("the details modal shows a payload that fits in full, across several sections")
    func detailsInFull() throws {
        let payload: JSONValue = .object(Dictionary(uniqueKeysWithValues: (0..<200).map { ("key_\($0)", JSONValue.string(String(repeating: "v", count: 100))) }))
        var approval = SampleApprovals.pendingLowMinimal
        approval.payload = payload
        let view = ApprovalModals.details(approval)
        #expect(BlockKitLimits.problems(inView: view) == [])
        let shown = BlockTexts.sections(in: view.blocks).dropFirst().map { String($0.dropFirst(3).dropLast(3)) }.joined()
        #expect(shown == CanonicalJSON.pretty(payload))
        #expect(view.blocks.count > 3)
    }

    // MARK: The payload in the message

    @Test("a payload too large for the message is shortened, and a Details button offers all of it", arguments: [true, false])
    func shortenedPayload(pending: Bool) throws {
        let approval = pending ? ExtremeApprovals.pending() : try #require(ExtremeApprovals.allStates().first { $0.0 == "rejected with a 2,000-character reason" }).1
        let blocks = ApprovalMessage.render(approval).blocks
        let payload = try #require(BlockTexts.section(startingWith: "*Payload*", in: blocks))
        #expect(payload.hasPrefix("*Payload* (shortened; *Details* shows all of it)\n```"))
        #expect(payload.hasSuffix("…```"))
        let buttons = BlockTexts.buttons(in: blocks)
        let details = try #require(buttons.first { $0.actionID == SlackActionID.details.rawValue })
        #expect(ButtonValue.decode(details.value) == ButtonValue(approvalID: approval.id))
        #expect(buttons.map(\.actionID) == (pending ? ["gatehouse.approve", "gatehouse.reject", "gatehouse.modify", "gatehouse.details"] : ["gatehouse.details"]))
    }

    @Test("a payload that fits is shown whole, without a Details button")
    func wholePayload() throws {
        let approval = SampleApprovals.pendingHighRisk
        let blocks = ApprovalMessage.render(approval).blocks
        let payload = try #require(BlockTexts.section(startingWith: "*Payload*", in: blocks))
        #expect(payload == "*Payload*\n```" + CanonicalJSON.pretty(approval.payload) + "```")
        #expect(!BlockTexts.buttons(in: blocks).contains { $0.actionID == SlackActionID.details.rawValue })
    }

    // MARK: The modify modal's size limit

    /// A one-member object whose pretty form is exactly `prettyLength` UTF-16 code units.
    static func payload(prettyLength: Int, filler: String = "x") -> JSONValue {
        let overhead = BlockKitLimits.length(CanonicalJSON.pretty(.object(["k": .string("")])))
        let room = prettyLength - overhead
        var text = ExtremeApprovals.repeated(filler, toCharacters: room)
        while BlockKitLimits.length(CanonicalJSON.pretty(.object(["k": .string(text)]))) > prettyLength { text.removeLast() }
        while BlockKitLimits.length(CanonicalJSON.pretty(.object(["k": .string(text)]))) < prettyLength { text += "x" }
        return .object(["k": .string(text)])
    }

    @Test("the modify modal is offered up to 3,000 characters of pretty JSON, and not beyond")
    func modifyLimit() throws {
        var approval = SampleApprovals.pendingDeploy
        approval.payload = Self.payload(prettyLength: 3_000)
        #expect(BlockKitLimits.length(CanonicalJSON.pretty(approval.payload)) == 3_000)
        let view = try #require(ApprovalModals.modify(approval))
        #expect(BlockKitLimits.problems(inView: view) == [])

        approval.payload = Self.payload(prettyLength: 3_001)
        #expect(ApprovalModals.modify(approval) == nil)
        approval.payload = ExtremeApprovals.payload
        #expect(ApprovalModals.modify(approval) == nil)
    }

    @Test("the modify modal counts as Slack does: an emoji is two code units")
    func modifyLimitCountsUTF16() {
        var approval = SampleApprovals.pendingDeploy
        // 1,494 emoji: 1,507 characters but 3,001 UTF-16 code units of pretty JSON.
        approval.payload = .object(["k": .string(String(repeating: "😀", count: 1_494))])
        #expect(CanonicalJSON.pretty(approval.payload).count < 3_000)
        #expect(ApprovalModals.modify(approval) == nil)
    }
}
