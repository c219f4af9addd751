import ApprovalCore
import SlackAPI
import SlackBridge
import Testing

@Suite("ButtonValue")
struct ButtonValueTests {
    static let id = ApprovalID(rawValue: "apr_golden000000000001")

    @Test("it encodes as small canonical JSON and decodes back")
    func roundTrip() throws {
        let value = ButtonValue(approvalID: Self.id)
        #expect(value.version == ButtonValue.currentVersion)
        #expect(value.encoded == #"{"id":"apr_golden000000000001","v":1}"#)
        #expect(ButtonValue.decode(value.encoded) == value)
        #expect(BlockKitLimits.length(value.encoded) <= BlockKitLimits.buttonValue)
    }

    @Test("a random id survives the round trip")
    func randomRoundTrip() {
        for _ in 0..<100 {
            let value = ButtonValue(approvalID: .random())
            #expect(ButtonValue.decode(value.encoded) == value)
        }
    }

    @Test("member order and spacing do not matter")
    func formatting() {
        #expect(ButtonValue.decode(#" { "v" : 1 , "id" : "apr_x" } "#) == ButtonValue(approvalID: ApprovalID(rawValue: "apr_x")))
    }

    @Test(
        "a value from another version is not understood",
        arguments: [
            #"{"v":0,"id":"apr_golden000000000001"}"#,
            #"{"v":2,"id":"apr_golden000000000001"}"#,
            #"{"v":-1,"id":"apr_golden000000000001"}"#,
            #"{"v":"1","id":"apr_golden000000000001"}"#,
            #"{"v":true,"id":"apr_golden000000000001"}"#,
            #"{"v":null,"id":"apr_golden000000000001"}"#,
            #"{"id":"apr_golden000000000001"}"#,
            #"{"version":1,"approval_id":"apr_golden000000000001"}"#,
        ])
    func otherVersions(_ text: String) {
        #expect(ButtonValue.decode(text) == nil)
    }

    @Test("a fractional version is not version 1")
    func fractionalVersion() {
        #expect(ButtonValue.decode(#"{"v":1.5,"id":"apr_golden000000000001"}"#) == nil)
        #expect(ButtonValue.decode(#"{"v":1.999,"id":"apr_golden000000000001"}"#) == nil)
    }

    @Test("a version too large for an Int is refused rather than crashing the process")
    func hugeVersion() async {
        await #expect(processExitsWith: .success) {
            _ = ButtonValue.decode(#"{"v":1e300,"id":"apr_golden000000000001"}"#)
            _ = ButtonValue.decode(#"{"v":-1e300,"id":"apr_golden000000000001"}"#)
        }
    }

    @Test(
        "garbage is not understood",
        arguments: [
            nil, "", " ", "approve", "apr_golden000000000001", "1", "[]", "[1,\"apr_x\"]", "{}", "null", "{\"v\":1",
            #"{"v":1,"id":"apr_x",}"#,
            #"{"v":1,"id":"apr_x","id":"apr_y"}"#,
            #"{"v":1,"id":5}"#,
            #"{"v":1,"id":null}"#,
            #"{"v":1,"id":"golden000000000001"}"#,
            #"{"v":1,"id":"APR_golden000000000001"}"#,
            #"{"v":1,"id":""}"#,
        ] as [String?])
    func garbage(_ text: String?) {
        #expect(ButtonValue.decode(text) == nil)
    }

    @Test("an id longer than 64 characters is refused")
    func longID() {
        let longest = "apr_" + String(repeating: "a", count: 60)
        #expect(ButtonValue.decode(#"{"v":1,"id":"\#(longest)"}"#)?.approvalID.rawValue == longest)
        #expect(ButtonValue.decode(#"{"v":1,"id":"\#(longest)a"}"#) == nil)
    }

    @Test("every button and modal carries the approval's value")
    func carriedEverywhere() throws {
        let approval = SampleApprovals.pendingLargePayload
        let expected = ButtonValue(approvalID: approval.id)
        let buttons = BlockTexts.buttons(in: ApprovalMessage.render(approval).blocks)
        #expect(buttons.count == 4)
        for button in buttons {
            #expect(ButtonValue.decode(button.value) == expected, "\(button.actionID)")
        }
        #expect(ButtonValue.decode(ApprovalModals.reject(approval).privateMetadata) == expected)
        let editable = SampleApprovals.pendingDeploy
        #expect(ButtonValue.decode(try #require(ApprovalModals.modify(editable)).privateMetadata) == ButtonValue(approvalID: editable.id))
    }
}
