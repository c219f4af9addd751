import ApprovalCore
import Foundation
import Hummingbird
import Logging
import SlackAPI
import SlackBridge

/// `/slack/interactions`, `/slack/commands`, `/slack/events`: reached only through `SlackSignatureMiddleware`, whose
/// verified body the context carries. Every answer is immediate; slow work goes through the outbox.
struct SlackController {
    typealias Context = SlackRequestContext

    let interactions: SlackInteractions?
    let commands: SlackCommands

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("interactions", use: interaction)
        routes.post("commands", use: command)
        routes.post("events", use: event)
        return routes
    }

    @Sendable func interaction(_ request: Request, context: Context) async throws -> Response {
        let payload: InteractionPayload
        do {
            payload = try InteractionPayload.decode(formBody: context.body)
        } catch {
            throw APIError(.badRequest, code: "malformed_payload", message: "The interaction payload could not be read: \(error).")
        }
        guard let interactions else {
            return Self.reply(.json(.object(["text": .string("Slack delivery is off on this Gatehouse (no bot token).")])))
        }
        return Self.reply(try await interactions.handle(payload))
    }

    @Sendable func command(_ request: Request, context: Context) async throws -> Response {
        let fields = FormBody.parse(context.body)
        if SlashCommand.isSSLCheck(fields) { return Response(status: .ok) }
        let command: SlashCommand
        do {
            command = try SlashCommand(fields: fields)
        } catch {
            throw APIError(.badRequest, code: "malformed_payload", message: "The slash command could not be read: \(error).")
        }
        return Self.reply(.json(.object(["response_type": .string("ephemeral"), "text": .string(try await commands.answer(command))])))
    }

    @Sendable func event(_ request: Request, context: Context) async throws -> Response {
        switch try? EventEnvelope.decode(json: context.body) {
        case .urlVerification(let challenge)?:
            return Self.reply(.json(.object(["challenge": .string(challenge)])))
        default:
            return Response(status: .ok)
        }
    }

    static func reply(_ reply: SlackReply) -> Response {
        switch reply {
        case .empty: Response(status: .ok)
        case .json(let json): ApprovalsController.json(json, status: .ok)
        }
    }
}
