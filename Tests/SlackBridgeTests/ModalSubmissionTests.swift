import ApprovalCore
import SlackAPI
import SlackBridge
import Testing

/// Reading what a decider typed into the reject and modify modals.
@Suite("Modal submissions")
struct ModalSubmissionTests {
    static func rejectValues(reason: String?, code: String?) -> [String: [String: StateValue]] {
        var values: [String: [String: StateValue]] = [
            "reason": ["reason": StateValue(type: "plain_text_input", value: reason)]
        ]
        if let code {
            values["reason_code"] = ["reason_code": StateValue(type: "static_select", selectedOption: .init(value: code))]
        } else {
            values["reason_code"] = ["reason_code": StateValue(type: "static_select")]
        }
        return values
    }

    static func payloadValues(_ text: String?) -> [String: [String: StateValue]] {
        ["payload": ["payload": StateValue(type: "plain_text_input", value: text)]]
    }

    static let original = SampleApprovals.deployPayload

    // MARK: Reject

    @Test("a rejection is its trimmed reason and its code")
    func rejection() throws {
        let answer = try #require(ApprovalModals.rejection(from: Self.rejectValues(reason: "  Not during the freeze.\n", code: "not_now")))
        #expect(answer.reason == "Not during the freeze.")
        #expect(answer.code == "not_now")
    }

    @Test("every offered reason code is read back", arguments: RejectReasonCode.allCases)
    func everyCode(_ code: RejectReasonCode) throws {
        let answer = try #require(ApprovalModals.rejection(from: Self.rejectValues(reason: "No.", code: code.rawValue)))
        #expect(answer.code == code.rawValue)
    }

    @Test("a missing or unknown reason code is left out, the reason kept")
    func unknownCode() throws {
        #expect(try #require(ApprovalModals.rejection(from: Self.rejectValues(reason: "No.", code: nil))).code == nil)
        #expect(try #require(ApprovalModals.rejection(from: Self.rejectValues(reason: "No.", code: "<!channel>"))).code == nil)
        #expect(try #require(ApprovalModals.rejection(from: ["reason": ["reason": StateValue(type: "plain_text_input", value: "No.")]])).reason == "No.")
    }

    @Test("a rejection without a reason is refused", arguments: [nil, "", "   ", "\n\t\n"] as [String?])
    func noReason(_ reason: String?) {
        #expect(ApprovalModals.rejection(from: Self.rejectValues(reason: reason, code: "unsafe")) == nil)
    }

    @Test("a rejection from another form is refused")
    func wrongForm() {
        #expect(ApprovalModals.rejection(from: [:]) == nil)
        #expect(ApprovalModals.rejection(from: Self.payloadValues("{\"a\":1}")) == nil)
    }

    // MARK: Modify

    @Test("an edited JSON object is the new payload")
    func editedObject() throws {
        let text = #"{"environment":"production","max_surge":1,"options":{"canary":false,"region":"eu-west-1"},"replicas":1,"service":"api","version":"2.14.0"}"#
        let result = ApprovalModals.editedPayload(from: Self.payloadValues(text), original: Self.original)
        #expect(result == .success(SampleApprovals.editedDeployPayload))
    }

    @Test("the pretty payload the modal offers, edited, is read back")
    func editedPretty() throws {
        let view = try #require(ApprovalModals.modify(SampleApprovals.pendingDeploy))
        guard case .input(_, .plainTextInput(let input), _, _, _)? = view.blocks.last else {
            Issue.record("the modify modal's last block is not its text input")
            return
        }
        let offered = try #require(input.initialValue)
        let edited = offered.replacingOccurrences(of: "\"replicas\": 3", with: "\"replicas\": 2")
        guard case .success(let payload) = ApprovalModals.editedPayload(from: Self.payloadValues(edited), original: Self.original) else {
            Issue.record("the edited payload was refused")
            return
        }
        #expect(payload["replicas"] == .number(2))
    }

    static func expectError(
        _ result: Result<JSONValue, ModalError>, startingWith start: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .failure(let error) = result else {
            Issue.record("expected an error starting with \"\(start)\", got \(result)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.block == "payload", sourceLocation: sourceLocation)
        #expect(error.message.hasPrefix(start), "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.hasSuffix("."), "a sentence: \(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.first?.isUppercase == true, "a sentence: \(error.message)", sourceLocation: sourceLocation)
        #expect(
            error.responseBody == .object(["response_action": .string("errors"), "errors": .object(["payload": .string(error.message)])]),
            sourceLocation: sourceLocation)
    }

    @Test("text that is not JSON is refused under the payload input, saying where", arguments: [
        "{", "{\"a\":1,}", "{'a': 1}", "{\"a\":1} trailing", "{\"a\":1,\"a\":2}", "", "not json",
    ])
    func invalidJSON(_ text: String) {
        Self.expectError(ApprovalModals.editedPayload(from: Self.payloadValues(text), original: Self.original), startingWith: "That is not valid JSON: ")
        if case .failure(let error) = ApprovalModals.editedPayload(from: Self.payloadValues(text), original: Self.original) {
            #expect(error.message.contains("(byte "))
        }
    }

    @Test("a number JSON cannot carry exactly is refused, naming where it is in the payload")
    func inexactNumber() {
        let text = #"{"service":"api","replicas":3,"budget":{"cents":12345678901234567891}}"#
        Self.expectError(
            ApprovalModals.editedPayload(from: Self.payloadValues(text), original: Self.original),
            startingWith: "The number at `payload.budget.cents`, 12345678901234567891, cannot be carried exactly")
    }

    @Test("an emptied input is refused as invalid JSON")
    func emptied() {
        Self.expectError(ApprovalModals.editedPayload(from: Self.payloadValues(nil), original: Self.original), startingWith: "That is not valid JSON: ")
        Self.expectError(ApprovalModals.editedPayload(from: [:], original: Self.original), startingWith: "That is not valid JSON: ")
    }

    @Test("JSON that is not an object is refused", arguments: ["[1,2]", "[]", "\"text\"", "42", "null", "true"])
    func notAnObject(_ text: String) {
        Self.expectError(
            ApprovalModals.editedPayload(from: Self.payloadValues(text), original: Self.original),
            startingWith: "The payload must be a JSON object")
    }

    @Test("an unchanged payload is refused, however it is laid out")
    func unchanged() {
        for text in [CanonicalJSON.pretty(Self.original), CanonicalJSON.serialize(Self.original), "\n" + CanonicalJSON.pretty(Self.original) + "\n\n"] {
            Self.expectError(
                ApprovalModals.editedPayload(from: Self.payloadValues(text), original: Self.original),
                startingWith: "Nothing changed.")
        }
    }

    @Test("a modal error's message is cut to fit")
    func longErrorMessage() {
        let error = ModalError(block: "payload", message: String(repeating: "x", count: 5_000))
        guard case .object(let body) = error.responseBody, case .object(let errors)? = body["errors"],
            case .string(let message)? = errors["payload"]
        else {
            Issue.record("unexpected body \(error.responseBody)")
            return
        }
        #expect(BlockKitLimits.length(message) <= 1_000)
        #expect(message.hasSuffix("…"))
    }
}
