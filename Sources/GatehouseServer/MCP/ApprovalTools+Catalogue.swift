import ApprovalCore
import BuildInfo
import Foundation
import MCP

extension ApprovalTools {
    /// What `tools/list` answers: each tool with a description and an input schema for a model to read.
    public static let definitions: [Tool] = [
        Tool(
            name: Name.requestApproval.rawValue, title: "Request approval",
            description: """
                Ask a person to approve one exact operation before you run it, and optionally wait for their decision. \
                Put in `payload` the exact facts of what you will run, as a JSON object (the command and its arguments, \
                the service, environment, commit, amounts): the approval is bound to this payload's digest, and the \
                person sees it. The result's first line says what to do: APPROVED → run exactly this payload; \
                MODIFIED → a person changed it: run the modified payload (decision.payload), never your original; \
                REJECTED, EXPIRED or CANCELLED → do not run it (the reason says why); PENDING → nobody decided yet: \
                call get_approval with its id and wait_seconds. Pass wait_seconds (up to 3600) to wait here for the \
                decision, and idempotency_key to get the same request back if you ask again.
                """,
            inputSchema: schema(#"""
                {"type": "object", "required": ["action", "payload"], "properties": {
                  "action": {"type": "string", "minLength": 1, "maxLength": 150,
                             "description": "What will be done, in one line: \"Deploy api to production\"."},
                  "payload": {"type": "object",
                              "description": "The exact facts of the operation, as a JSON object: {\"service\": \"api\", \"environment\": \"production\", \"commit\": \"4f2a9c1\"}. The approval is bound to it. Put big numbers and identifiers in strings."},
                  "reasoning": {"type": "string", "description": "Why you want to do it."},
                  "consequences": {"type": "string", "description": "What happens if it runs."},
                  "on_reject": {"type": "string", "description": "What you will do if it is rejected."},
                  "risk": {"type": "string", "enum": ["low", "medium", "high", "critical"], "description": "Default medium."},
                  "gate": {"type": "string", "description": "The escalation chain to use; default \"default\"."},
                  "requester": {"type": "string", "description": "Who asks: \"agent:NAME\"."},
                  "expires_in": {"type": "integer", "minimum": 60, "maximum": 2592000,
                                 "description": "Seconds until the request expires undecided; default 24 h."},
                  "callback_url": {"type": "string", "description": "An http(s) URL that receives the decided approval."},
                  "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 255,
                                      "description": "Asking again with the same key and the same fields returns the same request instead of filing a new one."},
                  "wait_seconds": {"type": "integer", "minimum": 0, "maximum": 3600, "default": 0,
                                   "description": "Wait up to this many seconds for the decision before answering; 0 answers at once."}
                }}
                """#),
            annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)),
        Tool(
            name: Name.getApproval.rawValue, title: "Get approval",
            description: """
                The current state of a request you filed, by its id; with wait_seconds (up to 3600), wait here until a \
                person decides or the time passes. The first line says what to do: APPROVED → run exactly the payload \
                you filed; MODIFIED → run only decision.payload, never your original; REJECTED, EXPIRED or CANCELLED → \
                do not run it; PENDING → still undecided: call again later with wait_seconds.
                """,
            inputSchema: schema(#"""
                {"type": "object", "required": ["id"], "properties": {
                  "id": {"type": "string", "description": "The approval's id, \"apr_…\", as request_approval returned it."},
                  "wait_seconds": {"type": "integer", "minimum": 0, "maximum": 3600, "default": 0,
                                   "description": "Wait up to this many seconds for the decision; 0 answers at once."}
                }}
                """#),
            annotations: .init(readOnlyHint: true, openWorldHint: true)),
        Tool(
            name: Name.verifyApproval.rawValue, title: "Verify approval",
            description: """
                Prove, right before running, that what you are about to run is what a person approved: pass the exact \
                payload you will run (the modified one when the approval was MODIFIED). It succeeds only when the \
                request is approved and the payload's digest equals the approved digest (key order does not matter, \
                any other change does). consume=true uses the approval up, so it cannot be used twice. Any error \
                (payload_mismatch, not_approved, expired, already_consumed) means: do not run it.
                """,
            inputSchema: schema(#"""
                {"type": "object", "required": ["id", "payload"], "properties": {
                  "id": {"type": "string", "description": "The approval's id, \"apr_…\"."},
                  "payload": {"type": "object", "description": "The exact payload you are about to run."},
                  "consume": {"type": "boolean", "default": false,
                              "description": "Use the approval up now, so that it cannot be verified again."}
                }}
                """#),
            annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)),
        Tool(
            name: Name.requestPermission.rawValue, title: "Request permission",
            description: """
                For Claude Code's --permission-prompt-tool: asks a person to approve one use of a tool (tool_name with \
                its input; the request's action is "Run TOOL_NAME" and its payload the input), waits for the decision, \
                and answers {"behavior": "allow", "updatedInput": …} with the approved input (the person's version \
                when they modified it) or {"behavior": "deny", "message": …} with the reason, or saying that it is \
                still pending and its id when nobody decided in time.
                """,
            inputSchema: schema(#"""
                {"type": "object", "required": ["tool_name", "input"], "properties": {
                  "tool_name": {"type": "string", "description": "The tool that asks for permission, e.g. \"Bash\"."},
                  "input": {"type": "object", "description": "The tool's input, exactly as it would run."},
                  "tool_use_id": {"type": "string", "description": "The tool use's id: asking again for the same one returns the same request."},
                  "wait_seconds": {"type": "integer", "minimum": 0, "maximum": 3600,
                                   "description": "Wait up to this many seconds for the decision; default 600."}
                }}
                """#),
            annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)),
    ]

    private static func schema(_ text: String) -> Value {
        // A broken schema is a programming error caught by the first test that lists the tools.
        try! JSONDecoder().decode(Value.self, from: Data(text.utf8))
    }

    /// What the server tells a client at `initialize`.
    static let instructions = """
        Gatehouse puts a person in the loop before an irreversible operation: file it with request_approval (the exact \
        payload you will run), wait for the decision, and run only what was approved: the original payload when \
        APPROVED, the person's payload when MODIFIED, nothing otherwise.
        """

    /// An MCP server offering these tools. Progress is reported when a call asks for it (`_meta.progressToken`).
    func server() async -> Server {
        let server = Server(
            name: "gatehouse", version: BuildInfo.version, title: "Gatehouse", instructions: Self.instructions,
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: Self.definitions) }
        await server.withMethodHandler(CallTool.self) { [self, weak server] parameters in
            var progress: ProgressReport?
            if let token = parameters._meta?.progressToken {
                progress = { [weak server] elapsed, total, message in
                    try? await server?.notify(
                        ProgressNotification.message(.init(progressToken: token, progress: elapsed, total: total, message: message)))
                }
            }
            return await call(parameters.name, arguments: parameters.arguments, progress: progress)
        }
        return server
    }
}
