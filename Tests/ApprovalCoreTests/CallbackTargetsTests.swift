import ApprovalCore
import DomainTestSupport
import Testing

@Suite("Callback targets: which addresses a callback may reach")
struct CallbackTargetsTests {
    @Test("loopback, link-local, private, shared, multicast, reserved and unspecified addresses are not public; others are",
          arguments: [
              ("127.0.0.1", false), ("127.255.0.9", false), ("10.1.2.3", false), ("172.16.0.1", false), ("172.31.255.255", false),
              ("192.168.1.1", false), ("169.254.169.254", false), ("100.64.0.1", false), ("0.0.0.0", false), ("224.0.0.1", false),
              ("255.255.255.255", false), ("::1", false), ("::", false), ("fe80::1", false), ("fd00::1", false), ("ff02::1", false),
              ("::ffff:127.0.0.1", false), ("::ffff:10.0.0.1", false), ("64:ff9b::a00:1", false),
              ("8.8.8.8", true), ("93.184.216.34", true), ("172.32.0.1", true), ("2606:4700::1111", true), ("::ffff:1.1.1.1", true),
          ])
    func publicAddresses(_ text: String, _ expected: Bool) throws {
        let address = try #require(IPAddress(text))
        #expect(address.isPublic == expected)
        #expect((CallbackTargets.publicOnly.refusal(of: address) == nil) == expected)
    }

    @Test("callback_allow takes CIDR ranges, single addresses and host names, and refuses anything else")
    func allowList() throws {
        let (networks, hosts) = try CallbackTargets.allowList(" 10.0.0.0/8, 192.168.1.5 ,fd00::/8, hooks.internal, Receiver ")
        #expect(networks.map(\.description) == ["10.0.0.0/8", "192.168.1.5/32", "fd00::/8"])
        #expect(hosts == ["hooks.internal", "receiver"])
        for bad in ["10.0.0.0/33", "::1/129", "a b", "http://x", "10.0.0.0/x"] {
            #expect(throws: CallbackTargetError.self) { try CallbackTargets.allowList(bad) }
        }
    }

    @Test("what callback_allow names is reached whatever it is; allowlist mode reaches nothing else, public ones included")
    func allowedAndAllowlistOnly() throws {
        let (networks, hosts) = try CallbackTargets.allowList("10.0.0.0/8,hooks.internal")
        let open = CallbackTargets(networks: networks, hosts: hosts)
        #expect(open.refusal(of: IPAddress("10.9.9.9")!) == nil)
        #expect(open.refusal(of: IPAddress("::ffff:10.9.9.9")!) == nil)
        #expect(open.refusal(of: IPAddress("8.8.8.8")!) == nil)
        #expect(open.refusal(of: IPAddress("192.168.0.1")!)?.contains("not a public address") == true)
        #expect(open.allows(host: "HOOKS.internal"))
        let closed = CallbackTargets(networks: networks, hosts: hosts, allowlistOnly: true)
        #expect(closed.refusal(of: IPAddress("8.8.8.8")!)?.contains("only what it lists is reached") == true)
        #expect(CallbackTargets.loopbackOnly.refusal(of: IPAddress("::1")!) == nil)
        #expect(CallbackTargets.loopbackOnly.refusal(ofURL: "http://93.184.216.34/hook") != nil)
        #expect(CallbackTargets.publicOnly.refusal(ofURL: "http://[::1]:8080/hook") != nil)
        // A name is checked when the callback is delivered, on what it resolves to then.
        #expect(CallbackTargets.publicOnly.refusal(ofURL: "http://localhost/hook") == nil)
    }

    @Test("an empty network, or one with nothing before or after its slash, is refused rather than a crash (found by fuzzing)")
    func emptyNetwork() throws {
        for text in ["", "/", "/8", "10.0.0.0/", "//", "10.0.0.0/8/8"] {
            #expect(IPNetwork(text) == nil, "\(text)")
        }
        #expect(IPNetwork("10.0.0.0/8")?.prefix == 8)
        #expect(throws: CallbackTargetError.self) { try CallbackTargets.allowList("10.0.0.0/8,/8") }
    }
}
