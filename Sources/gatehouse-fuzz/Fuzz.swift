// The fuzzing targets: one libFuzzer entry point that hands each input to the parser named by GATEHOUSE_FUZZ.
// Built only by `scripts/fuzz` (with `-sanitize=fuzzer,address`); a plain build makes a program that says so.
// Every target checks what must hold of any input, not only that nothing crashes.

import ApprovalCore
import Foundation
import SlackAPI
import SlackBridge

enum FuzzTarget: String, CaseIterable {
    case json, slackForm = "slack-form", slackJSON = "slack-json", chainCommand = "chain-command", duration, address,
        buttonValue = "button-value", signature

    /// Runs one input. A broken invariant stops the run through `fail`, which libFuzzer then reports with the input.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .slackForm: Self.slackForm(bytes)
        case .slackJSON: Self.slackJSON(bytes)
        case .chainCommand: Self.chainCommand(bytes)
        case .duration: Self.duration(bytes)
        case .address: Self.address(bytes)
        case .buttonValue:
            _ = ButtonValue.decode(String(decoding: bytes, as: UTF8.self))
            _ = ContactButtonValue.decode(String(decoding: bytes, as: UTF8.self))
        case .signature: Self.signature(bytes)
        }
    }

    /// Strict and exact parsing; what parses has one canonical form, which parses back to the same value, and
    /// exact numbers are a subset of what the lenient parse accepts.
    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONValue.parse(utf8: bytes) else {
            if (try? JSONValue.parse(utf8: bytes, exactNumbers: true)) != nil { fail("exact parse accepted what the plain one refused") }
            return
        }
        let canonical = CanonicalJSON.serialize(value)
        guard let again = try? JSONValue.parse(canonical) else { fail("canonical form does not parse: \(canonical)") }
        if again != value { fail("canonical form changed the value: \(canonical)") }
        if CanonicalJSON.serialize(again) != canonical { fail("canonical form is not stable: \(canonical)") }
        _ = CanonicalJSON.pretty(value)
        _ = CanonicalJSON.sha256(of: value)
        if let exact = try? JSONValue.parse(utf8: bytes, exactNumbers: true), exact != value {
            fail("the exact parse differs from the plain one")
        }
    }

    static func slackForm(_ bytes: [UInt8]) {
        let fields = FormBody.parse(bytes)
        for (name, value) in fields where name.isEmpty && value.isEmpty { _ = name }
        if let command = try? SlashCommand(formBody: bytes) {
            if command.userID.isEmpty { fail("a slash command without a user was accepted") }
            _ = try? ChainCommandGrammar.parse(command.text, command: command.command)
        }
        _ = try? InteractionPayload.decode(formBody: bytes)
    }

    static func slackJSON(_ bytes: [UInt8]) {
        _ = try? InteractionPayload.decode(json: bytes)
        _ = try? EventEnvelope.decode(json: bytes)
    }

    static func chainCommand(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            if case .set(let chain) = try ChainCommandGrammar.parse(text) {
                do { try chain.validate() } catch { fail("the grammar returned a chain that does not validate: \(text)") }
            }
        } catch {
            if error.description.isEmpty { fail("a refusal without a message") }
        }
    }

    static func duration(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let seconds = try? ChainDuration.parse(text) else { return }
        if !(seconds > 0) || !seconds.isFinite { fail("a duration of \(seconds) s was accepted from '\(text)'") }
    }

    /// IP literals parse to addresses whose text parses back to them; allow-lists and URLs are judged without a crash.
    static func address(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let address = IPAddress(text) {
            guard IPAddress(address.description) == address else { fail("\(text) → \(address) does not parse back") }
        }
        _ = IPNetwork(text)
        if let allowed = try? CallbackTargets.allowList(text) {
            _ = CallbackTargets(networks: allowed.networks, hosts: allowed.hosts).refusal(ofURL: "http://\(text)/")
        }
        _ = CallbackTargets().refusal(ofURL: text)
    }

    /// The signature check never accepts a body it did not sign, whatever the headers say.
    static func signature(_ bytes: [UInt8]) {
        let verifier = SlackRequestVerifier(signingSecret: "fuzz-secret", now: { Date(timeIntervalSince1970: 1_800_000_000) })
        let split = bytes.firstIndex(of: 0x0A) ?? bytes.endIndex
        let headers = String(decoding: bytes[..<split], as: UTF8.self).split(separator: " ", maxSplits: 1).map(String.init)
        let body = Array(bytes[min(split + 1, bytes.endIndex)...])
        let timestamp = headers.first ?? ""
        let signature = headers.count > 1 ? headers[1] : ""
        if (try? verifier.verify(timestamp: timestamp, signature: signature, body: body)) != nil,
            signature != SlackSignature.compute(secret: "fuzz-secret", timestamp: timestamp, body: body)
        {
            fail("a request with a wrong signature was accepted")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("gatehouse-fuzz: \(message)\n".utf8))
        abort()
    }
}

#if FUZZING
import CFuzzer

/// The target GATEHOUSE_FUZZ names, read once.
private let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["GATEHOUSE_FUZZ"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FuzzTarget.fail("set GATEHOUSE_FUZZ to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selected.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM points the program's `main` at this one, so it starts libFuzzer's driver itself, with the same flags.
@main
enum FuzzMain {
    static func main() {
        _ = selected
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data!, size) })
    }
}
#else
@main
enum NotAFuzzer {
    static func main() {
        FileHandle.standardError.write(Data("gatehouse-fuzz is built by scripts/fuzz, with libFuzzer; this build has none.\n".utf8))
        exit(2)
    }
}
#endif
